#include "wsrx.h"

#include <string.h>

#include "err.h"
#include "jsonchar.h"

/* Whose the current frame is. */
enum {
	M_PASS,				/* lws's: its bytes go back to lws */
	M_TAKE,				/* ours: parsed and reassembled here */
	M_DROP,				/* ours, but refused or after a failure: skipped */
};

/* Reassembly memory kept between messages: only a connection receiving a
 * large message holds a large buffer. */
#define KEEP ((size_t)1 << 20)

void wsb_wsrx_init(struct wsb_wsrx *r, size_t max, const struct wsb_wsrx_ops *ops, void *ud)
{
	memset(r, 0, sizeof *r);
	r->ops = ops;
	r->ud = ud;
	r->msg.max = max ? max : (size_t)-1;
}

void wsb_wsrx_reset(struct wsb_wsrx *r)
{
	struct wsb_buf msg = r->msg, hold = r->hold;
	const struct wsb_wsrx_ops *ops = r->ops;
	struct wsb_inflate *inf = r->inf;
	void *ud = r->ud;

	wsb_buf_shrink(&msg, KEEP);
	wsb_buf_shrink(&hold, KEEP);
	memset(r, 0, sizeof *r);
	r->msg = msg;
	r->hold = hold;
	r->ops = ops;
	r->ud = ud;
	r->inf = inf;
}

void wsb_wsrx_deflate(struct wsb_wsrx *r, int agreed)
{
	r->pmd = 1;
	r->failed = !agreed;		/* dropped, and nothing to report: the owner fails */
}

void wsb_wsrx_take(struct wsb_wsrx *r)
{
	r->taking = 1;
}

void wsb_wsrx_free(struct wsb_wsrx *r)
{
	wsb_buf_free(&r->msg);
	wsb_buf_free(&r->hold);
	wsb_inflate_free(r->inf);
	r->inf = NULL;
}

void wsb_wsrx_flush(struct wsb_wsrx *r)
{
	size_t off = 0;
	uint32_t n;

	if (!r->taking)
		return;		/* not open yet: held until the owner says so */
	while (off < r->hold.len) {
		memcpy(&n, r->hold.p + off, 4);
		r->messages++;
		r->ops->message(r->ud, r->hold.p + off + 4, n);
		off += 4 + (size_t)n;
	}
	wsb_buf_shrink(&r->hold, KEEP);
}

static void fail(struct wsb_wsrx *r, int code, const char *why)
{
	r->mode = M_DROP;
	if (r->failed)
		return;
	r->failed = 1;
	r->open = 0;
	wsb_buf_shrink(&r->msg, KEEP);
	r->ops->fail(r->ud, code, why);
}

static void deliver(struct wsb_wsrx *r, const char *p, size_t n)
{
	if (!wsb_jsonchar_utf8_valid(p, n)) {
		fail(r, 1007, "text message is not UTF-8");
		return;
	}
	if (r->lws_data || !r->taking) {	/* behind lws's message, or before take(): held */
		uint32_t l = (uint32_t)n;
		struct wsb_err e;
		int first = !r->hold.len;

		if (wsb_buf_append(&r->hold, &l, 4, &e) || wsb_buf_append(&r->hold, p, n, &e)) {
			fail(r, 1011, "out of memory");
			return;
		}
		if (first && r->ops->held)
			r->ops->held(r->ud);
		return;
	}
	r->messages++;
	r->ops->message(r->ud, n ? p : "", n);
}

/* From the first header byte: whose frame this is. Control frames are
 * always lws's; a data message is lws's when it began before take(), or
 * while lws still had one open (its continuations follow it there). */
static int first_byte(struct wsb_wsrx *r, unsigned char b0)
{
	int op = b0 & 0x0f, fin = b0 >> 7;

	r->data = !(op & 8);
	if (op & 8) {
		if (op == 8)
			r->closed = 1;
		return M_PASS;
	}
	if (!r->pmd && (!r->taking || r->lws_open)) {
		if (op || fin)
			r->lws_open = !fin;
		return M_PASS;
	}
	return r->failed || r->closed ? M_DROP : M_TAKE;
}

/* The complete header h of a frame that is ours: the rules, in the order
 * lws applies them. */
static void take_header(struct wsb_wsrx *r, const unsigned char *h, uint64_t len)
{
	int op = h[0] & 0x0f;

	r->fin = h[0] >> 7;
	if (h[0] & (r->pmd ? 0x30 : 0x70))
		return fail(r, 1002, "reserved bits set in a frame");
	if (h[0] & 0x40 && op == 0)
		return fail(r, 1002, "RSV1 on a continuation frame");
	if (h[1] & 0x80)
		return fail(r, 1002, "masked frame from the server");
	if (op == 2)
		return fail(r, 1003, "binary message: only JSON text is accepted");
	if (op > 2)
		return fail(r, 1002, "reserved opcode");
	if (op == 0 && !r->open)
		return fail(r, 1002, "continuation frame without a message");
	if (op == 1 && r->open)
		return fail(r, 1002, "new message inside a fragmented one");
	if (op == 1) {
		wsb_buf_reset(&r->msg);
		r->open = 1;
		r->deflated = h[0] >> 6 & 1;
		if (r->deflated && !r->inf && !(r->inf = wsb_inflate_new()))
			return fail(r, 1011, "out of memory");
		if (r->deflated)
			wsb_inflate_reset(r->inf);
	}
	/* From the header: one huge frame is refused before its payload (a
	 * compressed one when its output passes the cap). */
	if (!r->deflated && len > r->msg.max - r->msg.len)
		return fail(r, 1009, "message too big");
}

/* Compressed payload p[0..n) onto the message; end: its last. */
static void inflate_into(struct wsb_wsrx *r, const unsigned char *p, size_t n, int end)
{
	int rc = wsb_inflate(r->inf, p, n, end, &r->msg);

	if (rc == WSB_INFLATE_BIG)
		fail(r, 1009, "message too big");
	else if (rc == WSB_INFLATE_BAD)
		fail(r, 1002, "compressed message does not inflate");
	else if (rc)
		fail(r, 1011, "out of memory");
}

static void frame_end(struct wsb_wsrx *r)
{
	r->in_payload = 0;
	if (r->mode == M_TAKE && r->fin && r->deflated)
		inflate_into(r, NULL, 0, 1);
	if (r->mode != M_TAKE || !r->fin)
		return;
	r->open = 0;
	deliver(r, r->msg.p, r->msg.len);
	wsb_buf_shrink(&r->msg, KEEP);
}

static void header_done(struct wsb_wsrx *r, const unsigned char *h, uint64_t len)
{
	r->hlen = r->hneed = 0;
	r->left = len;
	if (r->mode == M_TAKE)
		take_header(r, h, len);
	r->in_payload = 1;
	if (!len)
		frame_end(r);
}

/* Payload bytes p[i..n) of the current frame, as many as it has. */
static size_t payload(struct wsb_wsrx *r, unsigned char *p, size_t *out, size_t i, size_t n)
{
	size_t k = r->left < n - i ? (size_t)r->left : n - i;
	struct wsb_err e;

	if (r->mode == M_PASS) {
		if (*out != i)
			memmove(p + *out, p + i, k);
		*out += k;
		r->lws_data |= r->data;
	} else if (r->mode == M_TAKE && r->deflated) {
		inflate_into(r, p + i, k, 0);
	} else if (r->mode == M_TAKE && wsb_buf_append(&r->msg, p + i, k, &e)) {
		fail(r, 1011, "out of memory");	/* within the cap */
	}
	r->left -= k;
	if (!r->left)
		frame_end(r);
	return k;
}

/* The common case: the whole header in this chunk, read where it lies,
 * and a whole unfragmented text message handed over without a copy.
 * Returns the bytes consumed, 0 to go byte by byte. */
static size_t header_here(struct wsb_wsrx *r, unsigned char *p, size_t *out, size_t i, size_t n)
{
	const unsigned char *h = p + i;
	size_t hl;
	uint64_t len;

	if (n - i < 2 || n - i < (hl = wsb_frame_hdr_size(h[1])))
		return 0;
	len = wsb_frame_payload_len(h);
	r->mode = (uint8_t)first_byte(r, h[0]);
	if (r->mode == M_TAKE && h[0] == 0x81 && !(h[1] & 0x80) && !r->open && len <= n - i - hl &&
	    len <= r->msg.max) {
		r->fin = 1;
		deliver(r, (const char *)h + hl, (size_t)len);
		return hl + (size_t)len;
	}
	if (r->mode == M_PASS) {
		memmove(p + *out, h, hl);	/* h is not read after this */
		*out += hl;
		r->lws_data |= r->data;
	}
	header_done(r, h, len);
	return hl;
}

/* A header split over reads: gathered byte by byte. */
static void header_byte(struct wsb_wsrx *r, unsigned char *p, size_t *out, unsigned char b)
{
	if (!r->hlen)
		r->mode = (uint8_t)first_byte(r, b);
	if (r->mode == M_PASS) {
		p[(*out)++] = b;
		r->lws_data |= r->data;
	}
	r->hdr[r->hlen++] = b;
	if (r->hlen == 2)
		r->hneed = (uint8_t)wsb_frame_hdr_size(b);
	if (r->hlen >= 2 && r->hlen == r->hneed)
		header_done(r, r->hdr, wsb_frame_payload_len(r->hdr));
}

size_t wsb_wsrx_feed(struct wsb_wsrx *r, unsigned char *p, size_t n)
{
	size_t i = 0, out = 0, k;

	/* lws has parsed what the last feed returned: what waited for it goes. */
	wsb_wsrx_flush(r);
	r->lws_data = 0;
	while (i < n) {
		if (r->in_payload)
			i += payload(r, p, &out, i, n);
		else if (!r->hlen && (k = header_here(r, p, &out, i, n)))
			i += k;
		else
			header_byte(r, p, &out, p[i++]);
	}
	return out;
}
