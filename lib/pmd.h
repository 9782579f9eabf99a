/* pmd — permessage-deflate (RFC 7692) as wsbridge uses it: each message
 * compressed once, on its own (no context taken over from the message
 * before), so one compressed frame is right for every peer that
 * negotiated the extension and can be shared like the plain one.
 *
 * libwebsockets negotiates the extension and inflates what peers send (in
 * small pieces, so the transport's --max-message cap bounds a
 * decompression bomb); it never compresses for us, since our batched
 * LWS_WRITE_RAW writes bypass its extension path. Pure: zlib, no I/O.
 */
#ifndef WSB_PMD_H
#define WSB_PMD_H

#include <stddef.h>
#include <sys/types.h>

/* What the server asks for when a client offers it (lws answers the
 * offer; our frames never depend on it): no context takeover either way. */
#define WSB_PMD_OFFER "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

/* Whether the first permessage-deflate offer in a Sec-WebSocket-Extensions
 * header is one whose peer can read our frames: 0 when there is none, or
 * when it limits our window (server_max_window_bits below 15). */
int wsb_pmd_offer_ok(const char *header);

struct wsb_deflate;

/* NULL on ENOMEM. */
struct wsb_deflate *wsb_deflate_new(void);
void wsb_deflate_free(struct wsb_deflate *d);
/* Room a compressed frame of a len-byte payload may need. */
size_t wsb_deflate_bound(size_t len);
/* The whole frame (FIN, RSV1, text; masked with key unless NULL: a client
 * could use it, none does yet) of
 * payload[0..len) compressed, into out (cap >= wsb_deflate_bound(len)):
 * its length, or 0 when compressing does not make it smaller (send the
 * plain frame, which RFC 7692 allows) or zlib failed. */
size_t wsb_deflate_frame(struct wsb_deflate *d, const void *payload, size_t len, unsigned char *out, size_t cap,
			 const unsigned char key[4]);

#endif
