/* wssrx — the server's receive path: RFC 6455 client frames (masked)
 * parsed in bulk from the bytes a read returned, instead of libwebsockets'
 * parser, which walks every byte through a state machine and needs a
 * receive buffer per connection as large as the reads it is given.
 *
 * lwsio feeds it what a server socket reads (see lwsio.h), after the
 * masking guard. A frame is looked at once per header: its payload is
 * unmasked in place a word at a time, a whole data message in the chunk is
 * handed over where it lies (no copy), a message split over frames or
 * reads is gathered in a buffer allocated only then, capped, and freed
 * when it is delivered (an idle connection owns no buffer). Control frames
 * (ping, pong, close) are left to lws: their bytes are copied to `out`,
 * so lws keeps answering pings, timing pongs and doing the close
 * handshake on a stream that only lacks the data frames.
 *
 * Until wsb_wssrx_take() every frame is lws's (frames that came in the
 * upgrade request's read are parsed by lws from its own buffer); after it,
 * a data message is taken here from its first frame once lws has none
 * open, so no message is split between the two.
 *
 * What a taken message may not be, it fails with, once (fail(), then its
 * data frames are dropped; control frames still pass, for the close):
 * binary 1003, larger than max 1009 (from the header that passes it),
 * RSV1 without a negotiated permessage-deflate or on a continuation, RSV2
 * or RSV3, an unmasked frame, a reserved opcode, a continuation out of
 * place 1002. UTF-8 (1007) and inflation are the owner's, on the whole
 * message. Data frames after the client's close frame are dropped.
 *
 * The owner may stop a feed after any message or buffer growth (the
 * connection was paused): feed() then returns how far it got, and the
 * caller keeps the rest for the next feed. A feed also ends early when
 * `out` is full, and before a message of ours that follows data bytes
 * passed to lws in the same feed (lws parses them after the feed: ours
 * would overtake its message); the caller then keeps the rest and feeds
 * it once lws has read what it got.
 *
 * Pure: no I/O, no lws; allocation only in the reassembly buffer.
 */
#ifndef WSB_WSSRX_H
#define WSB_WSSRX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

struct wsb_wssrx_ops {
	/* One whole data message, unmasked; comp: it came compressed (RSV1)
	 * and is still deflated. Valid during the call. Non-zero: stop the
	 * feed after it. */
	int (*message)(void *ud, const char *msg, size_t len, int comp);
	/* The connection must fail with code; why is for people. Once. */
	void (*fail)(void *ud, int code, const char *why);
	/* The reassembly buffer of an unfinished message now holds `bytes`
	 * (its capacity; 0: delivered, dropped or failed); began: a message
	 * split over frames or reads has just begun. Non-zero: stop. */
	int (*partial)(void *ud, size_t bytes, int began);
	/* The feed that delivered messages ends (NULL: not told); the owner
	 * may have let their work wait for it (batches). */
	void (*end)(void *ud);
};

struct wsb_wssrx {
	const struct wsb_wssrx_ops *ops;
	void *ud;
	struct wsb_buf msg;		/* a message split over frames or reads */
	uint64_t left;			/* payload bytes of the current frame still to come */
	uint64_t max;			/* the largest message, uncompressed */
	unsigned char hdr[WSB_FRAME_HDR_MAX];	/* a header split over reads */
	unsigned char mask[4];		/* the current frame's key */
	uint8_t hlen;			/* header bytes gathered */
	uint8_t hneed;			/* header length, once its second byte is in */
	uint8_t mode;			/* the current frame: see wssrx.c */
	uint8_t in_payload;
	uint8_t fin;			/* the current frame ends its message */
	uint8_t midx;			/* payload bytes of the frame so far, mod 4 */
	uint8_t taking;			/* wsb_wssrx_take was called */
	uint8_t lws_open;		/* lws has a data message open */
	uint8_t open;			/* a taken message is open */
	uint8_t comp;			/* ... and it is compressed */
	uint8_t deflate;		/* the client negotiated permessage-deflate */
	uint8_t closed;			/* the client's close frame went by */
	uint8_t failed;
	uint8_t stop;			/* the owner asked to stop this feed */
	uint8_t data;			/* the current frame is a data frame */
	uint8_t lws_data;		/* this feed passed data bytes to lws */
	uint8_t got;			/* this feed delivered a message */
};

/* A receiver for one connection, before the upgrade completes. */
void wsb_wssrx_init(struct wsb_wssrx *r);
/* From now on, take data messages (see above) of up to max bytes, to ops;
 * deflate: RSV1 is allowed on a message's first frame. */
void wsb_wssrx_take(struct wsb_wssrx *r, size_t max, int deflate, const struct wsb_wssrx_ops *ops, void *ud);
/* Feeds p[0..n) (unmasked in place). The bytes lws must see are written
 * to out[*outn..cap), *outn advanced; out may be p itself (then cap >= n
 * and the bytes move to the front). Returns the bytes of p consumed: n,
 * or less when the owner stopped the feed or out is full. Messages are
 * delivered (and failures reported) from inside this call. */
size_t wsb_wssrx_feed(struct wsb_wssrx *r, unsigned char *p, size_t n, unsigned char *out, size_t cap,
		      size_t *outn);
/* Drops the unfinished message (--message-timeout): its buffer is freed
 * and the rest of its frames dropped; nothing is delivered after it. */
void wsb_wssrx_drop(struct wsb_wssrx *r);
void wsb_wssrx_free(struct wsb_wssrx *r);

#endif
