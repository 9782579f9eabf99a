/* fuzz_wsext — a --compress client's view of the 101 (lib/wsext.h): the
 * Sec-WebSocket-Extensions header recorded and renamed in a stream cut
 * anywhere, a tail that may become its name held back for the next read.
 *
 * Input: a byte of cut sizes' seed, then the stream. It is fed once whole
 * and once in chunks (sizes from the first bytes, cycled), with what a feed
 * holds back put in front of the next, as lwsio does. Invariants: never
 * more than WSB_WSEXT_HOLD bytes held, and only while the head lasts;
 * nothing changes but the first byte of a header line that becomes 'X';
 * both runs give lws the same bytes and end with the same state (done,
 * named, verdict, value); a verdict of -1 says why, and the value is a
 * string within its array.
 */
#include "fuzz.h"

#include "wsext.h"

struct run {
	struct wsb_wsext x;
	unsigned char out[4096];
	size_t n;
};

/* s[0..n) in chunks of 1 + sizes[i] % 64 (whole when nsizes is 0). */
static void feed(struct run *r, const uint8_t *s, size_t n, const uint8_t *sizes, size_t nsizes)
{
	unsigned char b[4096 + WSB_WSEXT_HOLD];
	size_t held = 0, off = 0, i = 0;

	wsb_wsext_init(&r->x);
	r->n = 0;
	while (off < n || held) {
		size_t k = nsizes ? 1 + (size_t)sizes[i++ % nsizes] % 64 : n - off, got;

		if (k > n - off)
			k = n - off;
		memcpy(b + held, s + off, k);
		off += k;
		got = wsb_wsext_feed(&r->x, b, held + k);
		FUZZ_CHECK(got <= held + k && held + k - got <= WSB_WSEXT_HOLD);
		FUZZ_CHECK(got == held + k || !wsb_wsext_done(&r->x));
		memcpy(r->out + r->n, b, got);
		r->n += got;
		if (got == held + k) {
			held = 0;
			continue;
		}
		if (off == n && !k) {	/* the stream ended on a held tail: lws never gets it */
			held = 0;
			break;
		}
		memmove(b, b + got, held + k - got);
		held = held + k - got;
	}
	FUZZ_CHECK(memchr(r->x.value, '\0', sizeof r->x.value) != NULL);
	FUZZ_CHECK(r->x.verdict >= -1 && r->x.verdict <= 1);
	FUZZ_CHECK(r->x.verdict != -1 || r->x.why[0]);
	FUZZ_CHECK(r->x.named || !r->x.verdict);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t nsizes = fuzz_u8(&in) % 8, len;
	const uint8_t *sizes = in.p, *s;
	static struct run whole, parts;

	if (in.n < nsizes)
		return 0;
	in.p += nsizes;
	in.n -= nsizes;
	s = in.p;
	len = in.n > 4000 ? 4000 : in.n;
	feed(&whole, s, len, NULL, 0);
	feed(&parts, s, len, sizes, nsizes);
	if (!wsb_wsext_done(&whole.x))
		return 0;	/* a held tail may differ in where it stopped: only ended heads compare */
	FUZZ_CHECK(wsb_wsext_done(&parts.x));
	FUZZ_CHECK(whole.n == len && parts.n == len && !memcmp(whole.out, parts.out, len));
	FUZZ_CHECK(whole.x.named == parts.x.named && whole.x.verdict == parts.x.verdict);
	FUZZ_CHECK(!strcmp(whole.x.value, parts.x.value));
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(whole.out[i] == s[i] || (whole.out[i] == 'X' && (s[i] | 0x20) == 's' &&
						    (i == 0 || s[i - 1] == '\n')));
	return 0;
}
