#define T_SUITE "pmd"
#include "t.h"

#include <zlib.h>

#include "frame.h"
#include "pmd.h"

static void test_offers(void)
{
	T_CHECK(wsb_pmd_offer_ok("permessage-deflate"));
	T_CHECK(wsb_pmd_offer_ok("permessage-deflate; client_max_window_bits"));
	T_CHECK(wsb_pmd_offer_ok("x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover"));
	T_CHECK(wsb_pmd_offer_ok("permessage-deflate; server_max_window_bits=15"));
	T_CHECK(!wsb_pmd_offer_ok("permessage-deflate; server_max_window_bits=10"));
	T_CHECK(!wsb_pmd_offer_ok("permessage-deflate; server_max_window_bits=\"9\", permessage-deflate"));
	/* only the first offer counts, as lws takes the first */
	T_CHECK(wsb_pmd_offer_ok("permessage-deflate, permessage-deflate; server_max_window_bits=9"));
	T_CHECK(!wsb_pmd_offer_ok("permessage-deflatex"));
	T_CHECK(!wsb_pmd_offer_ok("x-other"));
	T_CHECK(!wsb_pmd_offer_ok(""));
	T_CHECK(!wsb_pmd_offer_ok(NULL));
}

/* Inflates a frame's payload the way a peer does (RFC 7692 §7.2.2). */
static size_t inflate_payload(const unsigned char *p, size_t n, char *out, size_t cap)
{
	z_stream z = { 0 };
	unsigned char tail[4] = { 0, 0, 0xff, 0xff };

	T_CHECK(inflateInit2(&z, -15) == Z_OK);
	z.next_out = (unsigned char *)out;
	z.avail_out = (uInt)cap;
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	inflate(&z, Z_SYNC_FLUSH);
	z.next_in = tail;
	z.avail_in = 4;
	inflate(&z, Z_SYNC_FLUSH);
	n = cap - z.avail_out;
	inflateEnd(&z);
	return n;
}

static void test_frames(void)
{
	struct wsb_deflate *d = wsb_deflate_new();
	char msg[2048], back[4096];
	unsigned char out[4096], out2[4096];
	size_t n, h, n2;

	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = "{\"type\":\"t\",\"data\":[1,2,3]} "[i % 28];
	n = wsb_deflate_frame(d, msg, sizeof msg, out, sizeof out, NULL);
	T_CHECK(n > 0 && n < sizeof msg);
	T_CHECK(out[0] == (0x80 | WSB_FRAME_RSV1 | WSB_OP_TEXT));
	h = (out[1] & 0x7f) == 126 ? 4 : 2;
	T_CHECK(inflate_payload(out + h, n - h, back, sizeof back) == sizeof msg && !memcmp(back, msg, sizeof msg));
	/* no context taken over: the same message compresses the same again */
	n2 = wsb_deflate_frame(d, msg, sizeof msg, out2, sizeof out2, NULL);
	T_CHECK(n2 == n && !memcmp(out, out2, n));
	/* nothing to gain: 0, the caller sends the plain frame */
	T_CHECK(wsb_deflate_frame(d, "{}", 2, out, sizeof out, NULL) == 0);
	/* too little room: 0 */
	T_CHECK(wsb_deflate_frame(d, msg, sizeof msg, out, 100, NULL) == 0);
	wsb_deflate_free(d);
}

static int answer(const char *h)
{
	char why[160] = "";
	int v = wsb_pmd_answer(h, why, sizeof why);

	T_CHECK((v < 0) == (why[0] != '\0'));
	return v;
}

/* A server's answer to our offer (RFC 7692 §5, §7.1). */
static void test_answers(void)
{
	char why[160];

	T_CHECK(answer(NULL) == 0 && answer("") == 0 && answer(" , ") == 0);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; client_no_context_takeover") == 1);
	T_CHECK(answer("permessage-deflate;server_no_context_takeover") == 1);
	T_CHECK(answer("Permessage-Deflate; Server_No_Context_Takeover ; server_max_window_bits=12") == 1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; server_max_window_bits=\"8\"") == 1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover, ") == 1);
	/* not offered, or not what was offered */
	T_CHECK(answer("x-webkit-deflate-frame") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover, x-other") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover, permessage-deflate") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; client_max_window_bits=10") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; x=1") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; server_no_context_takeover") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover=1") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; server_max_window_bits") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; server_max_window_bits=7") == -1);
	T_CHECK(answer("permessage-deflate; server_no_context_takeover; server_max_window_bits=16") == -1);
	/* a server that keeps its context: we did not agree to that */
	T_CHECK(wsb_pmd_answer("permessage-deflate", why, sizeof why) == -1 && strstr(why, "server_no_context_takeover"));
	T_CHECK(answer("permessage-deflate; client_no_context_takeover") == -1);
}

static int inflate_all(struct wsb_inflate *z, const void *p, size_t n, size_t step, struct wsb_buf *out)
{
	int rc = 0;

	wsb_inflate_reset(z);
	wsb_buf_reset(out);
	for (size_t i = 0; i < n && !rc; i += step)
		rc = wsb_inflate(z, (const char *)p + i, n - i < step ? n - i : step, 0, out);
	return rc ? rc : wsb_inflate(z, NULL, 0, 1, out);
}

/* Our frames inflate back, in pieces of any size, message after message;
 * the output never passes the cap; garbage is refused. */
static void test_inflate(void)
{
	struct wsb_deflate *d = wsb_deflate_new();
	struct wsb_inflate *z = wsb_inflate_new();
	struct wsb_buf out = { 0 };
	char msg[5000];
	unsigned char f[8192];
	size_t n, h;

	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = "{\"type\":\"t\",\"data\":[1,2,3]} "[i % 28];
	n = wsb_deflate_frame(d, msg, sizeof msg, f, sizeof f, NULL);
	h = (f[1] & 0x7f) == 126 ? 4 : 2;
	for (size_t step = 1; step < n; step = step * 3 + 1) {
		T_CHECK(inflate_all(z, f + h, n - h, step, &out) == 0);
		T_CHECK(out.len == sizeof msg && !memcmp(out.p, msg, sizeof msg));
	}
	out.max = sizeof msg;		/* exactly the cap: fits */
	T_CHECK(inflate_all(z, f + h, n - h, n, &out) == 0 && out.len == sizeof msg);
	out.max = sizeof msg - 1;	/* one byte over */
	T_CHECK(inflate_all(z, f + h, n - h, n, &out) == WSB_INFLATE_BIG && out.len <= out.max);
	out.max = 0;
	T_CHECK(inflate_all(z, "\xff\xfe garbage", 10, 10, &out) == WSB_INFLATE_BAD);
	/* a message ending with a final block needs no tail; data after it is refused */
	T_CHECK(inflate_all(z, "\x03\x00", 2, 2, &out) == 0 && out.len == 0);
	T_CHECK(inflate_all(z, "\x03\x00\x00", 3, 3, &out) == WSB_INFLATE_BAD);
	wsb_buf_free(&out);
	wsb_inflate_free(z);
	wsb_deflate_free(d);
}

/* A client's frame: masked, compressed when smaller, plain otherwise. */
static void test_client_frame(void)
{
	struct wsb_deflate *d = wsb_deflate_new();
	const unsigned char key[4] = { 1, 2, 3, 4 };
	char msg[600], back[1024];
	unsigned char f[1024];
	size_t n;

	memset(msg, 'a', sizeof msg);
	n = wsb_pmd_frame(d, msg, sizeof msg, f, sizeof f, key);
	T_CHECK(n < 100 && f[0] == 0xc1 && (f[1] & 0x80));
	wsb_frame_mask(f + 6, n - 6, key);
	T_CHECK(inflate_payload(f + 6, n - 6, back, sizeof back) == sizeof msg && !memcmp(back, msg, sizeof msg));
	n = wsb_pmd_frame(d, "{}", 2, f, sizeof f, key);
	T_CHECK(n == 8 && f[0] == 0x81 && f[1] == 0x82);
	wsb_frame_mask(f + 6, 2, key);
	T_CHECK(!memcmp(f + 6, "{}", 2));
	T_CHECK(wsb_pmd_frame(NULL, msg, sizeof msg, f, sizeof f, key) == 8 + sizeof msg && f[0] == 0x81);
	wsb_deflate_free(d);
}

int main(void)
{
	T_RUN(test_offers);
	T_RUN(test_frames);
	T_RUN(test_answers);
	T_RUN(test_inflate);
	T_RUN(test_client_frame);
	return t_done();
}
