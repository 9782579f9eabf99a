/* fuzz_wsctl — the control frames of the server's own connections
 * (lib/wsctl.h), as wssrx passes them on: any bytes, cut anywhere.
 *
 * Input: a byte of cut sizes' count, the sizes, then the stream. It is fed
 * once whole and once in chunks (sizes cycled), each into its own copy
 * (the feed unmasks in place). Invariants: both runs see the same frames
 * (opcode, payload) in the same order and end with the same verdict; a
 * frame handed over has a payload of at most 125 bytes and an opcode of
 * close, ping or pong; after a verdict or a close, nothing more; the buffer
 * for a split frame exists only while one is split.
 */
#include "fuzz.h"

#include "wsctl.h"

struct run {
	struct wsb_wsctl c;
	uint64_t hash;			/* of every frame handed over, in order */
	unsigned frames;
	int code, closed;
};

static int on_frame(void *ud, int op, const unsigned char *p, size_t len)
{
	struct run *r = ud;

	FUZZ_CHECK(len <= 125);
	FUZZ_CHECK(op == 0x8 || op == WSB_WSCTL_PING || op == WSB_WSCTL_PONG);
	FUZZ_CHECK(!r->closed && !r->code);
	r->hash = (r->hash ^ (uint64_t)op) * 1099511628211u;
	for (size_t i = 0; i < len; i++)
		r->hash = (r->hash ^ p[i]) * 1099511628211u;
	r->hash = (r->hash ^ len) * 1099511628211u;
	r->frames++;
	r->closed = op == 0x8;
	return r->closed;
}

static void feed(struct run *r, const uint8_t *s, size_t n, const uint8_t *sizes, size_t nsizes)
{
	unsigned char b[4096];
	size_t off = 0, i = 0;
	const char *why = NULL;

	memset(r, 0, sizeof *r);
	r->hash = 14695981039346656037u;
	while (off < n && !r->code) {
		size_t k = nsizes ? 1 + (size_t)sizes[i++ % nsizes] % 200 : n - off;

		if (k > n - off)
			k = n - off;
		memcpy(b, s + off, k);
		off += k;
		r->code = wsb_wsctl_feed(&r->c, b, k, on_frame, r, &why);
		FUZZ_CHECK(r->code == 0 || r->code == 1002 || r->code == 1011);
		FUZZ_CHECK(!r->code || (why && *why));
		FUZZ_CHECK(!r->c.part == !r->c.n || r->c.done);
	}
	wsb_wsctl_free(&r->c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t nsizes = fuzz_u8(&in) % 8, len;
	const uint8_t *sizes = in.p;
	static struct run whole, parts;

	if (in.n < nsizes)
		return 0;
	in.p += nsizes;
	in.n -= nsizes;
	len = in.n > 4000 ? 4000 : in.n;
	feed(&whole, in.p, len, NULL, 0);
	feed(&parts, in.p, len, sizes, nsizes);
	FUZZ_CHECK(whole.frames == parts.frames && whole.hash == parts.hash);
	FUZZ_CHECK(whole.code == parts.code && whole.closed == parts.closed);
	return 0;
}
