#include "pmdrx.h"

#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

struct wsb_inflate {
	z_stream z;
};

struct wsb_inflate *wsb_inflate_new(void)
{
	struct wsb_inflate *z = calloc(1, sizeof *z);

	/* Raw inflate (-15: no zlib header, the largest window a client may use). */
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

/* Feeds in[0..n) with Z_SYNC_FLUSH, growing out as it fills. */
static int run(struct wsb_inflate *z, const void *in, size_t n, struct wsb_buf *out)
{
	struct wsb_err e;
	int rc;

	z->z.next_in = (unsigned char *)(uintptr_t)in;
	z->z.avail_in = (unsigned)n;
	do {
		if (out->len == out->cap && wsb_buf_reserve(out, out->cap ? out->cap : 4096, &e) &&
		    wsb_buf_reserve(out, 1, &e))
			return e.code == WSB_EXIT_DATAERR ? 1009 : 1011;
		z->z.next_out = (unsigned char *)out->p + out->len;
		z->z.avail_out = (unsigned)(out->cap - out->len);
		rc = inflate(&z->z, Z_SYNC_FLUSH);
		out->len = out->cap - z->z.avail_out;
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			return rc == Z_MEM_ERROR ? 1011 : 1007;
		if (rc == Z_STREAM_END || (rc == Z_BUF_ERROR && z->z.avail_out))
			break;		/* the end, or no progress possible: all input used */
	} while (z->z.avail_in || !z->z.avail_out);
	return 0;
}

int wsb_inflate_msg(struct wsb_inflate *z, const void *in, size_t n, struct wsb_buf *out)
{
	static const unsigned char tail[4] = { 0, 0, 0xff, 0xff };
	int rc;

	wsb_buf_reset(out);
	if (n > (unsigned)-1 - 4)
		return 1009;
	rc = run(z, in, n, out);
	if (!rc)
		rc = run(z, tail, sizeof tail, out);
	return rc;
}
