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

int main(void)
{
	T_RUN(test_offers);
	T_RUN(test_frames);
	return t_done();
}
