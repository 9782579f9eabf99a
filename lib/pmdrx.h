/* pmdrx — permessage-deflate (RFC 7692) on the way in: a client's
 * compressed message (RSV1) inflated whole, under the --max-message cap.
 *
 * lws answers an offer without client_no_context_takeover, so a client may
 * refer back to its earlier messages: each connection that sends
 * compressed messages has its own inflater, made at its first one and kept
 * (a client that starts afresh each message inflates the same with it).
 * The output grows with what inflates, never past the cap, so a
 * decompression bomb costs at most the cap. Pure: zlib, no I/O.
 */
#ifndef WSB_PMDRX_H
#define WSB_PMDRX_H

#include <stddef.h>

#include "buf.h"

struct wsb_inflate;

/* NULL on ENOMEM. */
struct wsb_inflate *wsb_inflate_new(void);
void wsb_inflate_free(struct wsb_inflate *z);
/* The next message in[0..n) (without the 00 00 ff ff tail RFC 7692
 * removes) inflated into out, which is reset first and whose max caps it. 0, or
 * the close code for the connection: 1009 past the cap, 1007 when it is
 * not deflate data, 1011 out of memory. */
int wsb_inflate_msg(struct wsb_inflate *z, const void *in, size_t n, struct wsb_buf *out);

#endif
