/* msg — the broker's shared, reference-counted, pre-framed message, and
 * the output buffer that take() copies whole frames into.
 *
 * A message is written once into the payload (after WSB_FRAME_HDR_MAX
 * reserved bytes) and sealed: the unmasked header goes right in front of
 * it, so the frame is one contiguous run that every session queue, the
 * history and the snapshot table hold a pointer to. refs counts those
 * holders; qrefs counts the session queues among them (the broker counts a
 * message's bytes once however many queues hold it).
 *
 * A producer's message carries the broker's "producer"/"pseq" stamp, which
 * only connections that ask for it receive (?stamp=1: wsbridge-sub and
 * -pub); the rest get a second form without those members, built from the
 * first on first use and shared like it, so each form is serialised and
 * framed at most once per message. Single-threaded.
 */
#ifndef WSB_MSG_H
#define WSB_MSG_H

#include <stddef.h>
#include <stdint.h>

struct wsb_msg {
	size_t refs, qrefs;
	uint64_t seq;		/* 0 for replies */
	int stamped;		/* holds "producer" and "pseq" */
	struct wsb_msg *plain;	/* the form without them, once built (a ref) */
	size_t off, len;	/* the frame: header + payload */
	unsigned char buf[];	/* WSB_FRAME_HDR_MAX reserved, then the payload */
};

/* refs 1, room for cap payload bytes; NULL on ENOMEM. */
struct wsb_msg *wsb_msg_alloc(size_t cap);
char *wsb_msg_payload(struct wsb_msg *m);
void wsb_msg_seal(struct wsb_msg *m, size_t plen);
/* The payload of a sealed message (its JSON) and its length. */
const char *wsb_msg_json(const struct wsb_msg *m, size_t *len);
/* Before sealing: gives back room beyond plen; m itself if realloc fails. */
struct wsb_msg *wsb_msg_shrink(struct wsb_msg *m, size_t plen);
void wsb_msg_unref(struct wsb_msg *m);	/* NULL is fine */
/* The form of a sealed m for a reader that asked for the producer stamp
 * (stamp 1: m itself) or not (m unless stamped, else its plain form, built
 * once). NULL on ENOMEM. */
struct wsb_msg *wsb_msg_form(struct wsb_msg *m, int stamp);

/* Whole frames into p: all fit in hard; past soft only the first. */
struct wsb_out {
	unsigned char *p;
	size_t total, soft, hard;
};
/* 1 if n more bytes go in under those rules, else 0. */
int wsb_out_fits(const struct wsb_out *o, size_t n);
/* Appends m's frame if it fits: 1, else 0. */
int wsb_out_put(struct wsb_out *o, const struct wsb_msg *m);

#endif
