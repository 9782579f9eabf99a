#include "wsctl.h"

#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define HDR 6				/* a client's control header: 2 bytes and the key */
#define FRAME_IN_MAX (HDR + 125)

/* The rules a control frame's first two bytes can break. */
static const char *bad(unsigned char b0, unsigned char b1)
{
	int op = b0 & 0x0f;

	if (b0 & 0x70)
		return "reserved bits set in a frame";
	if (op != WSB_OP_CLOSE && op != WSB_WSCTL_PING && op != WSB_WSCTL_PONG)
		return "reserved opcode";
	if (!(b0 & 0x80))
		return "fragmented control frame";
	if (!(b1 & 0x80))
		return "unmasked frame from the client";
	if ((b1 & 0x7f) > 125)
		return "control frame longer than 125 bytes";
	return NULL;
}

static size_t frame_len(const unsigned char *f)
{
	return HDR + (size_t)(f[1] & 0x7f);
}

static int fail(struct wsb_wsctl *c, const char **why, const char *what, int code)
{
	c->done = 1;
	*why = what;
	wsb_wsctl_free(c);
	return code;
}

/* A whole frame f (unmasked here): to the owner. */
static void one(struct wsb_wsctl *c, unsigned char *f, wsb_wsctl_fn fn, void *ud)
{
	size_t len = (size_t)(f[1] & 0x7f);

	wsb_frame_mask(f + HDR, len, f + 2);
	if (fn(ud, f[0] & 0x0f, f + HDR, len))
		c->done = 1;
}

/* Adds p[0..n) to the split frame, up to its end: the bytes used, or
 * (size_t)-1 with *code set when it breaks a rule or cannot be held. */
static size_t gather(struct wsb_wsctl *c, const unsigned char *p, size_t n, const char **why, int *code)
{
	size_t k = 0, want;

	if (!c->part && !(c->part = malloc(FRAME_IN_MAX))) {
		*code = fail(c, why, "out of memory", 1011);
		return (size_t)-1;
	}
	while (k < n) {
		want = c->n < 2 ? 2 : frame_len(c->part);
		if (want - c->n > n - k)
			want = c->n + n - k;
		memcpy(c->part + c->n, p + k, want - c->n);
		k += want - c->n;
		c->n = (uint8_t)want;
		if (c->n == 2 && (*why = bad(c->part[0], c->part[1]))) {
			*code = fail(c, why, *why, 1002);
			return (size_t)-1;
		}
		if (c->n >= 2 && c->n == frame_len(c->part))
			break;
	}
	return k;
}

static int finish_part(struct wsb_wsctl *c, wsb_wsctl_fn fn, void *ud)
{
	if (c->n < 2 || c->n != frame_len(c->part))
		return 0;
	one(c, c->part, fn, ud);
	wsb_wsctl_free(c);
	return 1;
}

int wsb_wsctl_feed(struct wsb_wsctl *c, unsigned char *p, size_t n, wsb_wsctl_fn fn, void *ud, const char **why)
{
	size_t i = 0, k;
	int code = 0;
	const char *w;

	while (i < n && !c->done) {
		if (!c->n && n - i >= 2 && (w = bad(p[i], p[i + 1])))
			return fail(c, why, w, 1002);
		if (!c->n && n - i >= 2 && n - i >= frame_len(p + i)) {
			k = frame_len(p + i);
			one(c, p + i, fn, ud);
			i += k;
			continue;
		}
		if ((k = gather(c, p + i, n - i, why, &code)) == (size_t)-1)
			return code;
		i += k;
		finish_part(c, fn, ud);
	}
	return 0;
}

void wsb_wsctl_free(struct wsb_wsctl *c)
{
	free(c->part);
	c->part = NULL;
	c->n = 0;
}

size_t wsb_wsctl_frame(unsigned char *out, int op, const void *p, size_t len)
{
	size_t h;

	if (len > 125)
		len = 125;
	h = wsb_frame_header(out, len, op, NULL);	/* 2 bytes: FIN, op, length */
	if (len)
		memcpy(out + h, p, len);
	return h + len;
}

size_t wsb_wsctl_close(unsigned char *out, int code, const char *reason)
{
	unsigned char pl[125];
	size_t n = reason ? strlen(reason) : 0;

	if (!code)
		return wsb_wsctl_frame(out, WSB_OP_CLOSE, NULL, 0);
	if (n > 123)
		n = 123;
	while (n && n < strlen(reason) && ((unsigned char)reason[n] & 0xc0) == 0x80)
		n--;		/* not inside a character */
	pl[0] = (unsigned char)(code >> 8);
	pl[1] = (unsigned char)code;
	memcpy(pl + 2, reason ? reason : "", n);
	return wsb_wsctl_frame(out, WSB_OP_CLOSE, pl, n + 2);
}
