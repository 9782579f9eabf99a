#include "pmd.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "frame.h"

struct wsb_deflate {
	z_stream z;
};

/* The parameters of the first permessage-deflate offer in h (up to the
 * next ',' that starts another offer), or NULL. */
static const char *find_offer(const char *h, size_t *len)
{
	static const char name[] = "permessage-deflate";

	for (const char *p = h; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");

		if (!strncasecmp(p, name, sizeof name - 1) && strchr(" \t;,", p[sizeof name - 1])) {
			*len = n;
			return p;
		}
		p += n;
	}
	return NULL;
}

int wsb_pmd_offer_ok(const char *h)
{
	size_t n;
	const char *o = h ? find_offer(h, &n) : NULL, *w;

	if (!o)
		return 0;
	/* A smaller window on our side than the 32 KiB we compress with
	 * could leave the peer unable to read a frame. */
	for (w = o; (w = strcasestr(w, "server_max_window_bits")) && w < o + n; w += 22) {
		const char *v = w + 22;

		v += strspn(v, " \t");
		if (*v == '=' && atoi(v + 1 + strspn(v + 1, " \t\"")) < 15)
			return 0;
	}
	return 1;
}

struct wsb_deflate *wsb_deflate_new(void)
{
	struct wsb_deflate *d = calloc(1, sizeof *d);

	/* Raw deflate (-15: no zlib header), the fastest level: a message is
	 * compressed once for every subscriber, but on the publish path. */
	if (d && deflateInit2(&d->z, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(d);
		return NULL;
	}
	return d;
}

void wsb_deflate_free(struct wsb_deflate *d)
{
	if (!d)
		return;
	deflateEnd(&d->z);
	free(d);
}

size_t wsb_deflate_bound(size_t len)
{
	return WSB_FRAME_HDR_MAX + len + len / 1000 + 64;
}

size_t wsb_deflate_frame(struct wsb_deflate *d, const void *payload, size_t len, unsigned char *out, size_t cap,
			 const unsigned char key[4])
{
	unsigned char *body = out + WSB_FRAME_HDR_MAX;
	size_t n, h;
	unsigned char hdr[WSB_FRAME_HDR_MAX];

	if (cap < wsb_deflate_bound(len) || len > UINT32_MAX)
		return 0;
	/* No context takeover: every message starts from an empty window. */
	deflateReset(&d->z);
	d->z.next_in = (unsigned char *)(uintptr_t)payload;
	d->z.avail_in = (uInt)len;
	d->z.next_out = body;
	d->z.avail_out = (uInt)(cap - WSB_FRAME_HDR_MAX);
	if (deflate(&d->z, Z_SYNC_FLUSH) != Z_OK || d->z.avail_in || !d->z.avail_out)
		return 0;
	n = (size_t)(d->z.next_out - body);
	/* RFC 7692 §7.2.1: the sync flush's empty block, 00 00 ff ff, is left
	 * off; the reader appends it again. */
	if (n < 4 || memcmp(body + n - 4, "\x00\x00\xff\xff", 4))
		return 0;
	n -= 4;
	h = wsb_frame_header(hdr, n, WSB_OP_TEXT | WSB_FRAME_RSV1, key);
	if (h + n >= wsb_frame_header_len(len, key != NULL) + len)
		return 0;	/* no gain: the plain frame is as good */
	memmove(out + h, body, n);
	memcpy(out, hdr, h);
	if (key)
		wsb_frame_mask(out + h, n, key);
	return h + n;
}

size_t wsb_pmd_frame(struct wsb_deflate *d, const void *msg, size_t len, unsigned char *out, size_t cap,
		     const unsigned char key[4])
{
	size_t n = d ? wsb_deflate_frame(d, msg, len, out, cap, key) : 0;

	if (n)
		return n;
	n = wsb_frame_header(out, len, WSB_OP_TEXT, key);
	memcpy(out + n, msg, len);
	if (key)
		wsb_frame_mask(out + n, len, key);
	return n + len;
}

/* s[0..n) without blanks around it. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

static int refuse(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* One parameter of the answer, p[0..n): the bit it sets in *seen, or -1. */
static int answer_param(const char *p, size_t n, unsigned *seen, char *why, size_t cap)
{
	static const char *const names[] = { "server_no_context_takeover", "client_no_context_takeover",
					     "server_max_window_bits" };
	size_t k = strcspn(p, "="), vn;
	const char *v, *all = p;
	unsigned i;
	int eq;

	if (k > n)
		k = n;
	eq = k < n;
	vn = n - k - eq;
	v = trim(p + k + eq, &vn);
	p = trim(p, &k);
	for (i = 0; i < 3 && (strlen(names[i]) != k || strncasecmp(p, names[i], k)); i++)
		;
	if (i == 3)
		return refuse(why, cap, "it agrees to \"%.*s\", which was not offered", (int)k, p);
	if (*seen & 1u << i)
		return refuse(why, cap, "it names \"%.*s\" twice", (int)k, p);
	*seen |= 1u << i;
	if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"')
		v++, vn -= 2;
	if ((i < 2) == eq)	/* the first two take no value, the last needs one */
		return refuse(why, cap, "bad value in \"%.*s\"", (int)n, all);
	if (i == 2 && !(vn == 1 && v[0] >= '8' && v[0] <= '9') && !(vn == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5'))
		return refuse(why, cap, "bad value in \"%.*s\" (8 to 15)", (int)n, all);
	return 0;
}

int wsb_pmd_answer(const char *h, char *why, size_t cap)
{
	static const char name[] = "permessage-deflate";
	size_t n = h ? strlen(h) : 0, k;
	unsigned seen = 0;

	h = trim(h ? h : "", &n);
	while (n && *h == ',')		/* empty list elements are allowed */
		h++, n--;
	if (!n)
		return 0;
	if (memchr(h, ',', n) && strspn(h + strcspn(h, ","), ", \t") < n - strcspn(h, ","))
		return refuse(why, cap, "it answers with more than one extension (\"%.*s\")", (int)n, h);
	n = strcspn(h, ",");
	k = strcspn(h, ";");
	if (k > n)
		k = n;
	trim(h, &k);			/* h has no blank in front: only k changes */
	if (k != sizeof name - 1 || strncasecmp(h, name, k))
		return refuse(why, cap, "it names \"%.*s\", which was not offered", (int)k, h);
	for (size_t i = strcspn(h, ";"); i < n;) {
		size_t l = strcspn(h + i + 1, ";,");

		if (answer_param(h + i + 1, l, &seen, why, cap))
			return -1;
		i += 1 + l;
	}
	if (!(seen & 1))
		return refuse(why, cap, "it keeps its compression context (no \"%.*s\")", 26, "server_no_context_takeover");
	return 1;
}

struct wsb_inflate {
	z_stream z;
	int ended;			/* the message's final block went by */
};

struct wsb_inflate *wsb_inflate_new(void)
{
	struct wsb_inflate *z = calloc(1, sizeof *z);

	if (z && inflateInit2(&z->z, -15) != Z_OK) {
		free(z);
		return NULL;
	}
	return z;
}

void wsb_inflate_free(struct wsb_inflate *z)
{
	if (!z)
		return;
	inflateEnd(&z->z);
	free(z);
}

void wsb_inflate_reset(struct wsb_inflate *z)
{
	inflateReset(&z->z);
	z->ended = 0;
}

int wsb_inflate_ended(const struct wsb_inflate *z)
{
	return z->ended;
}

/* Output goes into out's free room, at most 16 KiB a step; at the cap, into
 * one spare byte, which is only there to tell whether more would come. */
static int inflate_step(struct wsb_inflate *z, struct wsb_buf *out)
{
	unsigned char spare;
	size_t left = (out->max ? out->max : (size_t)-1) - out->len, room = left < 16384 ? left : 16384;
	struct wsb_err e;
	int rc;

	if (room && wsb_buf_reserve(out, room, &e))
		return WSB_INFLATE_NOMEM;
	z->z.next_out = room ? (unsigned char *)out->p + out->len : &spare;
	z->z.avail_out = room ? (uInt)room : 1;
	rc = inflate(&z->z, Z_SYNC_FLUSH);
	if (!room && !z->z.avail_out)
		return WSB_INFLATE_BIG;
	out->len += room - (room ? z->z.avail_out : 0);
	if (rc == Z_STREAM_END)
		z->ended = 1;
	else if (rc != Z_OK && rc != Z_BUF_ERROR)
		return WSB_INFLATE_BAD;
	return 0;
}

/* All of p[0..n), and all the output it makes. */
static int inflate_all(struct wsb_inflate *z, const unsigned char *p, size_t n, struct wsb_buf *out)
{
	while (n) {
		uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
		int rc;

		if (z->ended)
			return WSB_INFLATE_BAD;	/* data after the final block */
		z->z.next_in = (unsigned char *)(uintptr_t)p;
		z->z.avail_in = k;
		do {			/* a full output may not be all of it */
			if ((rc = inflate_step(z, out)))
				return rc;
		} while (!z->z.avail_out && !z->ended);
		if (z->z.avail_in == k)
			return WSB_INFLATE_BAD;	/* no progress with room to spare */
		p += k - z->z.avail_in;
		n -= k - z->z.avail_in;
	}
	return 0;
}

int wsb_inflate(struct wsb_inflate *z, const void *in, size_t n, int end, struct wsb_buf *out)
{
	static const unsigned char tail[4] = { 0x00, 0x00, 0xff, 0xff };
	int rc = inflate_all(z, in, n, out);

	/* RFC 7692 §7.2.2: the sender left the sync flush's empty block off;
	 * a message that ended with a final block has nothing to add. */
	if (!rc && end && !z->ended)
		rc = inflate_all(z, tail, sizeof tail, out);
	return rc;
}
