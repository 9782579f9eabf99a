#include "pmd.h"

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
