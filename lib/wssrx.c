#include "wssrx.h"

#include <string.h>

#include "err.h"

/* Whose the current frame is. */
enum {
	M_PASS,				/* lws's: its bytes go to out */
	M_TAKE,				/* ours: unmasked and delivered or gathered here */
	M_DROP,				/* ours, but refused or after a failure: skipped */
};

void wsb_wssrx_init(struct wsb_wssrx *r)
{
	memset(r, 0, sizeof *r);
}

void wsb_wssrx_take(struct wsb_wssrx *r, size_t max, int deflate, const struct wsb_wssrx_ops *ops, void *ud)
{
	r->ops = ops;
	r->ud = ud;
	r->max = max ? max : (uint64_t)-1 / 2;
	r->deflate = (uint8_t)!!deflate;
	r->taking = 1;
}

void wsb_wssrx_free(struct wsb_wssrx *r)
{
	wsb_buf_free(&r->msg);
}

/* Compressed bytes a message may take: a little over max, since deflate
 * may grow what does not compress; the inflated size is the owner's cap. */
static uint64_t cap_of(const struct wsb_wssrx *r)
{
	return r->comp ? r->max + (r->max >> 10) + 64 : r->max;
}

static void partial(struct wsb_wssrx *r, size_t bytes, int began)
{
	if (r->ops->partial && r->ops->partial(r->ud, bytes, began))
		r->stop = 1;
}

static void end_msg(struct wsb_wssrx *r)
{
	int had = r->msg.cap != 0;

	r->open = 0;
	wsb_buf_free(&r->msg);
	if (had)
		partial(r, 0, 0);
}

static void fail(struct wsb_wssrx *r, int code, const char *why)
{
	r->mode = M_DROP;
	if (r->failed)
		return;
	r->failed = 1;
	end_msg(r);
	r->ops->fail(r->ud, code, why);
}

void wsb_wssrx_drop(struct wsb_wssrx *r)
{
	if (r->in_payload && r->mode == M_TAKE)
		r->mode = M_DROP;
	r->failed = 1;
	r->open = 0;
	wsb_buf_free(&r->msg);
}

static void deliver(struct wsb_wssrx *r, const char *p, size_t n)
{
	r->got = 1;
	if (r->ops->message(r->ud, n ? p : "", n, r->comp))
		r->stop = 1;
}

/* From the first header byte: whose frame this is. Control frames are
 * always lws's; a data message is lws's when it began before take(), or
 * while lws still had one open (its continuations follow it there). */
static int first_byte(struct wsb_wssrx *r, unsigned char b0)
{
	int op = b0 & 0x0f, fin = b0 >> 7;

	r->data = !(op & 8);
	if (op & 8) {
		if (op == 8)
			r->closed = 1;
		return M_PASS;
	}
	if (!r->taking || r->lws_open) {
		if (op || fin)
			r->lws_open = !fin;
		return M_PASS;
	}
	return r->failed || r->closed ? M_DROP : M_TAKE;
}

/* Would a frame starting with b0 be lws's? (first_byte without its effects) */
static int passes(const struct wsb_wssrx *r, unsigned char b0)
{
	return (b0 & 8) || !r->taking || r->lws_open;
}

/* Can a frame starting with b0 begin in this feed? Not one of ours after
 * data bytes went to lws in it: lws parses them only after the feed, so
 * ours would overtake its message (the caller holds the rest and has the
 * connection read again). */
static int may_begin(const struct wsb_wssrx *r, unsigned char b0)
{
	return passes(r, b0) || !r->lws_data;
}

/* The complete header h of a frame that is ours: the rules, in the order
 * lws applies them. */
static void take_header(struct wsb_wssrx *r, const unsigned char *h, uint64_t len)
{
	int op = h[0] & 0x0f, rsv1 = h[0] & 0x40;

	r->fin = h[0] >> 7;
	if ((h[0] & 0x30) || (rsv1 && (!r->deflate || op == 0)))
		return fail(r, 1002, "reserved bits set in a frame");
	if (!(h[1] & 0x80))
		return fail(r, 1002, "unmasked frame from the client");
	if (op == 2)
		return fail(r, 1003, "binary frames are not supported: send JSON text");
	if (op > 2)
		return fail(r, 1002, "reserved opcode");
	if (op == 0 && !r->open)
		return fail(r, 1002, "continuation frame without a message");
	if (op == 1 && r->open)
		return fail(r, 1002, "new message inside a fragmented one");
	if (op == 1) {
		r->open = 1;
		r->comp = (uint8_t)!!rsv1;
	}
	memcpy(r->mask, h + wsb_frame_hdr_size(h[1]) - 4, 4);
	r->midx = 0;
	/* From the header: one huge frame is refused before its payload. */
	if (len > cap_of(r) - r->msg.len)
		return fail(r, 1009, "message too big");
	if (op == 1)
		partial(r, r->msg.cap, 1);
}

static void frame_end(struct wsb_wssrx *r)
{
	r->in_payload = 0;
	if (r->mode != M_TAKE || !r->fin)
		return;
	r->open = 0;
	deliver(r, r->msg.p, r->msg.len);
	end_msg(r);
}

static void header_done(struct wsb_wssrx *r, const unsigned char *h, uint64_t len)
{
	r->hlen = r->hneed = 0;
	r->left = len;
	if (r->mode == M_TAKE)
		take_header(r, h, len);
	r->in_payload = 1;
	if (!len)
		frame_end(r);
}

/* Payload bytes p[i..n) of the current frame, as many as it has (and, for
 * lws's, as out has room for). */
static size_t payload(struct wsb_wssrx *r, unsigned char *p, size_t i, size_t n, unsigned char *out, size_t cap,
		      size_t *o)
{
	size_t k = r->left < n - i ? (size_t)r->left : n - i;
	struct wsb_err e;

	if (r->mode == M_PASS) {
		if (k > cap - *o)
			k = cap - *o;
		if (out + *o != p + i)
			memmove(out + *o, p + i, k);
		*o += k;
		r->lws_data |= r->data;
	} else if (r->mode == M_TAKE) {
		wsb_frame_mask_at(p + i, k, r->mask, r->midx);
		r->midx = (uint8_t)((r->midx + k) & 3);
		if (wsb_buf_append(&r->msg, p + i, k, &e))
			fail(r, 1011, "out of memory");	/* within the cap */
		else if (k)
			partial(r, r->msg.cap, 0);
	}
	r->left -= k;
	if (!r->left)
		frame_end(r);
	return k;
}

/* The common case: the whole header in this chunk, read where it lies,
 * and a whole unfragmented message unmasked in place and handed over.
 * Returns the bytes consumed, 0 to go byte by byte. */
static size_t header_here(struct wsb_wssrx *r, unsigned char *p, size_t i, size_t n, unsigned char *out, size_t cap,
			  size_t *o)
{
	unsigned char *h = p + i;
	size_t hl;
	uint64_t len;

	if (n - i < 2 || n - i < (hl = wsb_frame_hdr_size(h[1])))
		return 0;
	if ((passes(r, h[0]) && cap - *o < hl) || !may_begin(r, h[0]))
		return 0;
	len = wsb_frame_payload_len(h);
	r->mode = (uint8_t)first_byte(r, h[0]);
	if (r->mode == M_TAKE && (h[0] == 0x81 || (h[0] == 0xc1 && r->deflate)) && (h[1] & 0x80) && !r->open &&
	    len <= n - i - hl && len <= (h[0] & 0x40 ? r->max + (r->max >> 10) + 64 : r->max)) {
		r->fin = 1;
		r->comp = h[0] >> 6 & 1;
		wsb_frame_mask(h + hl, (size_t)len, h + hl - 4);
		deliver(r, (const char *)h + hl, (size_t)len);
		return hl + (size_t)len;
	}
	if (r->mode == M_PASS) {
		memmove(out + *o, h, hl);	/* h is not read after this */
		*o += hl;
		r->lws_data |= r->data;
	}
	header_done(r, h, len);
	return hl;
}

/* A header split over reads: gathered byte by byte. 0 when out has no
 * room for it (nothing consumed). */
static int header_byte(struct wsb_wssrx *r, unsigned char b, unsigned char *out, size_t cap, size_t *o)
{
	if (*o == cap && (r->hlen ? r->mode == M_PASS : passes(r, b)))
		return 0;
	if (!r->hlen && !may_begin(r, b))
		return 0;
	if (!r->hlen)
		r->mode = (uint8_t)first_byte(r, b);
	if (r->mode == M_PASS) {
		out[(*o)++] = b;
		r->lws_data |= r->data;
	}
	r->hdr[r->hlen++] = b;
	if (r->hlen == 2)
		r->hneed = (uint8_t)wsb_frame_hdr_size(b);
	if (r->hlen >= 2 && r->hlen == r->hneed)
		header_done(r, r->hdr, wsb_frame_payload_len(r->hdr));
	return 1;
}

size_t wsb_wssrx_feed(struct wsb_wssrx *r, unsigned char *p, size_t n, unsigned char *out, size_t cap,
		      size_t *outn)
{
	size_t i = 0, k;

	r->stop = 0;
	r->lws_data = 0;
	while (i < n && !r->stop) {
		if (r->in_payload) {
			if (!(k = payload(r, p, i, n, out, cap, outn)) && r->left)
				break;		/* out is full */
			i += k;
		} else if (!r->hlen && (k = header_here(r, p, i, n, out, cap, outn))) {
			i += k;
		} else if (header_byte(r, p[i], out, cap, outn)) {
			i++;
		} else {
			break;
		}
	}
	if (r->got) {
		r->got = 0;
		if (r->ops->end)
			r->ops->end(r->ud);
	}
	return i;
}
