/* lwsglue — what the two libwebsockets transports (wsserver, wsclient)
 * share, so it is written once: signals that wake the event loop, and lws's
 * log lines routed to wsb_log with the facts lws reports only as text
 * picked out of them.
 *
 * Signals: wsb_lwsglue_signals installs a SIGINT/SIGTERM handler that only
 * records the signal and calls lws_cancel_service (the one lws call that is
 * safe there), so the loop wakes with LWS_CALLBACK_EVENT_WAIT_CANCELLED and
 * takes it with wsb_lwsglue_signal. One context at a time per process.
 *
 * Log: wsb_lwsglue_log routes the lws levels given to wsb_log (errors and
 * warnings at their level, the rest at debug; all at debug when quiet,
 * for a client whose own message says what went wrong). Whatever the
 * levels, these lines are read for what lws says nowhere else: that the
 * server's certificate or key would not load, the errno of a failed
 * accept() (not logged: the server logs an episode once), and why OpenSSL
 * refused a peer's certificate. Only this file, wsserver.c, wsdoor.c and wsclient.c
 * include libwebsockets.h.
 */
#ifndef WSB_LWSGLUE_H
#define WSB_LWSGLUE_H

#include <signal.h>

struct lws_context;
struct lws_context_creation_info;

/* Installs the handler for ctx; saved (may be NULL) receives the previous
 * SIGINT and SIGTERM actions. */
void wsb_lwsglue_signals(struct lws_context *ctx, struct sigaction saved[2]);
/* Forgets ctx (if it is the one signals wake) and, with saved, restores
 * those actions: a program may run one client after another. */
void wsb_lwsglue_unsignal(struct lws_context *ctx, const struct sigaction saved[2]);
/* The signal received since the last call, or 0. */
int wsb_lwsglue_signal(void);
/* SIGHUP wakes the loop too (the server's reload), recorded apart since it
 * stops nothing: wsb_lwsglue_hupped says whether one came since the last
 * call. Only after wsb_lwsglue_signals (the context it wakes). */
void wsb_lwsglue_hup(void);
int wsb_lwsglue_hupped(void);

/* lws_set_log_level(levels) with the router above. */
void wsb_lwsglue_log(int levels, int quiet);
/* Forgets what the log said so far. */
void wsb_lwsglue_clear(void);
/* lws could not load --tls-cert / --tls-key (it said so just before
 * lws_create_context failed). */
int wsb_lwsglue_tls_init_failed(void);
/* lws_create_context, with LeakSanitizer (make check SAN=1) told to look
 * away: libwebsockets 4.1.6 leaks a 72-byte block when it fails (a port in
 * use, a certificate that does not load), on a path that ends the
 * process. A suppression file cannot say just that (the report's only
 * frame is inside the library, and naming the library would hide every
 * block of ours allocated inside an lws callback). */
struct lws_context *wsb_lwsglue_context(const struct lws_context_creation_info *info);
/* errno of the last failed accept() since the last call, or 0. */
int wsb_lwsglue_accept_errno(void);
/* Why OpenSSL refused the peer's certificate ("" if it did not say). */
const char *wsb_lwsglue_tls_why(void);

#endif
