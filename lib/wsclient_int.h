/* wsclient_int — what the two files of the client transport share:
 * wsclient.c (the connection, its reads and batched writes, the loop) and
 * wsclient_in.c (the input descriptor the tool reads in the same loop).
 * Private to them.
 */
#ifndef WSB_WSCLIENT_INT_H
#define WSB_WSCLIENT_INT_H

#include <stdint.h>

#include <libwebsockets.h>

#include "auth.h"
#include "backoff.h"
#include "buf.h"
#include "pmd.h"
#include "sys.h"
#include "wsclient.h"
#include "wsext.h"
#include "wsrx.h"

/* One batch is one lws_write(RAW): masked frames back to back. */
#define BATCH 65536
/* A reassembly buffer bigger than this is freed after its message: only a
 * connection receiving a large message holds a large buffer. */
#define RX_KEEP (1 << 20)

struct wsb_client {
	struct wsb_client_cfg cfg;
	const struct wsb_client_ops *ops;
	void *ud;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws *wsi;
	int open, connecting, closing, done;
	int close_sent;			/* our close frame is on its way: wait for the peer's */
	int retry_now;			/* set from closed(): skip the backoff once */
	struct wsb_backoff backoff;
	int64_t failures;		/* consecutive attempts that proved nothing */
	int proved;			/* this connection proved useful (wsb_client_proved) */
	lws_sorted_usec_list_t sul_retry, sul_timer, sul_defer, sul_every;
	lws_sorted_usec_list_t sul_handshake;	/* this attempt's connect_timeout */
	lws_sorted_usec_list_t sul_rxflush;	/* messages wsrx held behind lws's */
	struct lws *abandoned;		/* a timed-out attempt being killed: ignored */
	int64_t last_pong_us;		/* when the open connection last proved alive */
	int64_t down_since_us;		/* first failure since the last open, or 0 */
	int64_t outage_us;		/* how long the broker was out of reach before this open */
	int was_open, reopened;		/* a connection was open before this one */
	int local_code;			/* close code we failed this connection with */
	int local_retry;		/* ...and then reconnect (wsb_client_reconnect) */
	char local_reason[124];
	struct wsb_err fatal;		/* ends wsb_client_run (out of memory) */
	int64_t every_ms;
	int deferred;
	lws_retry_bo_t idle;
	int peer_code;			/* close code the peer sent */
	int tls_verify_failed;		/* this attempt: the server certificate was refused */
	int guard_fd;			/* this attempt's socket, watched by lwsio; -1: none */
	char peer_reason[124];

	char url[1024];			/* parsed copy of the current URL */
	size_t cur;			/* which of cfg.urls */
	char query[4096];		/* the tool's query, kept across URLs */
	char shown[1024];		/* the URL as logged (tokens redacted) */
	const char *host;
	char base[1024];		/* path and query of the URL */
	char path[4096];		/* base + the tool's query: what is requested */
	int port, tls;
	char token[WSB_TOKEN_MAX];

	struct wsb_wsrx wsrx;		/* the receive path: data frames parsed in bulk */
	struct wsb_wsext ext;		/* --compress: the 101's answer, hidden from lws */
	struct wsb_deflate *zd;		/* outbound compression, from the first message */
	int deflate;			/* this connection agreed to permessage-deflate */
	struct wsb_buf rx;		/* reassembly of what lws delivers (frames with the 101) */
	struct wsb_buf batch;		/* LWS_PRE bytes of room, then the frames */
	struct wsb_random_pool masks;	/* mask keys: kernel entropy, drawn 4 KiB at a time */

	int in_fd;			/* input, or -1 */
	struct lws *in_wsi;
	int in_paused, in_hup, in_eof;
};

/* The "wsbridge-input" protocol's callback: the input descriptor, and
 * the signals that wake the loop. */
int wsb_client_in_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

#endif
