#define T_SUITE "frame"
#include "t.h"

#include <stdlib.h>

#include "frame.h"

static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };

static void test_len_0(void)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	static const unsigned char want[] = { 0x81, 0x00 };
	static const unsigned char want_m[] = { 0x81, 0x80, 0x37, 0xfa, 0x21, 0x3d };

	T_CHECK(wsb_frame_header_len(0, 0) == 2);
	T_CHECK(wsb_frame_header(h, 0, WSB_OP_TEXT, NULL) == 2);
	T_CHECK(!memcmp(h, want, sizeof want));
	T_CHECK(wsb_frame_header_len(0, 1) == 6);
	T_CHECK(wsb_frame_header(h, 0, WSB_OP_TEXT, key) == 6);
	T_CHECK(!memcmp(h, want_m, sizeof want_m));
}

static void test_len_125(void)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	static const unsigned char want[] = { 0x81, 0x7d };
	static const unsigned char want_m[] = { 0x81, 0xfd, 0x37, 0xfa, 0x21, 0x3d };

	T_CHECK(wsb_frame_header_len(125, 0) == 2);
	T_CHECK(wsb_frame_header(h, 125, WSB_OP_TEXT, NULL) == 2);
	T_CHECK(!memcmp(h, want, sizeof want));
	T_CHECK(wsb_frame_header_len(125, 1) == 6);
	T_CHECK(wsb_frame_header(h, 125, WSB_OP_TEXT, key) == 6);
	T_CHECK(!memcmp(h, want_m, sizeof want_m));
}

static void test_len_126(void)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	static const unsigned char want[] = { 0x81, 0x7e, 0x00, 0x7e };
	static const unsigned char want_m[] = { 0x81, 0xfe, 0x00, 0x7e, 0x37, 0xfa, 0x21, 0x3d };

	T_CHECK(wsb_frame_header_len(126, 0) == 4);
	T_CHECK(wsb_frame_header(h, 126, WSB_OP_TEXT, NULL) == 4);
	T_CHECK(!memcmp(h, want, sizeof want));
	T_CHECK(wsb_frame_header_len(126, 1) == 8);
	T_CHECK(wsb_frame_header(h, 126, WSB_OP_TEXT, key) == 8);
	T_CHECK(!memcmp(h, want_m, sizeof want_m));
}

static void test_len_65535(void)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	static const unsigned char want[] = { 0x81, 0x7e, 0xff, 0xff };
	static const unsigned char want_m[] = { 0x81, 0xfe, 0xff, 0xff, 0x37, 0xfa, 0x21, 0x3d };

	T_CHECK(wsb_frame_header_len(65535, 0) == 4);
	T_CHECK(wsb_frame_header(h, 65535, WSB_OP_TEXT, NULL) == 4);
	T_CHECK(!memcmp(h, want, sizeof want));
	T_CHECK(wsb_frame_header_len(65535, 1) == 8);
	T_CHECK(wsb_frame_header(h, 65535, WSB_OP_TEXT, key) == 8);
	T_CHECK(!memcmp(h, want_m, sizeof want_m));
}

static void test_len_65536(void)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	static const unsigned char want[] = { 0x81, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00 };
	static const unsigned char want_m[] = { 0x81, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00,
						0x37, 0xfa, 0x21, 0x3d };

	T_CHECK(wsb_frame_header_len(65536, 0) == 10);
	T_CHECK(wsb_frame_header(h, 65536, WSB_OP_TEXT, NULL) == 10);
	T_CHECK(!memcmp(h, want, sizeof want));
	T_CHECK(wsb_frame_header_len(65536, 1) == 14);
	T_CHECK(wsb_frame_header(h, 65536, WSB_OP_TEXT, key) == 14);
	T_CHECK(!memcmp(h, want_m, sizeof want_m));
}

static void test_len_64bit(void)
{
	unsigned char h[WSB_FRAME_HDR_MAX];
	static const unsigned char want[] = { 0x81, 0x7f, 0x01, 0x23, 0x45, 0x67,
					      0x89, 0xab, 0xcd, 0xef };

	T_CHECK(wsb_frame_header(h, 0x0123456789abcdefULL, WSB_OP_TEXT, NULL) == 10);
	T_CHECK(!memcmp(h, want, sizeof want));
}

static void test_close_opcode(void)
{
	unsigned char h[WSB_FRAME_HDR_MAX];

	T_CHECK(wsb_frame_header(h, 2, WSB_OP_CLOSE, NULL) == 2);
	T_CHECK(h[0] == 0x88);
	T_CHECK(h[1] == 0x02);
	T_CHECK(wsb_frame_header(h, 2, WSB_OP_CLOSE, key) == 6);
	T_CHECK(h[0] == 0x88);
	T_CHECK(h[1] == 0x82);
}

/* RFC 6455 section 5.7: a masked "Hello". */
static void test_mask_rfc_example(void)
{
	static const unsigned char k[4] = { 0x37, 0xfa, 0x21, 0x3d };
	static const unsigned char want[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					      0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	unsigned char f[16];
	size_t n = wsb_frame_header(f, 5, WSB_OP_TEXT, k);

	memcpy(f + n, "Hello", 5);
	wsb_frame_mask(f + n, 5, k);
	T_CHECK(n + 5 == sizeof want);
	T_CHECK(!memcmp(f, want, sizeof want));
}

/* The word-at-a-time path must agree with the byte definition for every
 * length and every alignment of the buffer. */
static void test_mask_matches_bytewise(void)
{
	unsigned char *buf = malloc(4096 + 8), *ref = malloc(4096);
	size_t n, off, i;
	int bad = 0;

	for (off = 0; off < 8; off++) {
		for (n = 0; n <= 300; n++) {
			for (i = 0; i < n; i++)
				buf[off + i] = ref[i] = (unsigned char)(i * 31 + 7);
			wsb_frame_mask(buf + off, n, key);
			for (i = 0; i < n; i++)
				ref[i] ^= key[i & 3];
			if (memcmp(buf + off, ref, n))
				bad++;
		}
	}
	T_CHECK(bad == 0);
	free(buf);
	free(ref);
}

static void test_mask_roundtrip(void)
{
	size_t n = 1 << 20, i;
	unsigned char *a = malloc(n), *b = malloc(n);
	static const unsigned char k[4] = { 0xde, 0xad, 0xbe, 0xef };

	for (i = 0; i < n; i++)
		a[i] = (unsigned char)(i ^ (i >> 8));
	memcpy(b, a, n);
	wsb_frame_mask(b, n, k);
	T_CHECK(memcmp(a, b, n) != 0);
	T_CHECK(b[0] == (a[0] ^ 0xde) && b[5] == (a[5] ^ 0xad) && b[n - 1] == (a[n - 1] ^ 0xef));
	wsb_frame_mask(b, n, k);
	T_CHECK(!memcmp(a, b, n));
	free(a);
	free(b);
}

int main(void)
{
	T_RUN(test_len_0);
	T_RUN(test_len_125);
	T_RUN(test_len_126);
	T_RUN(test_len_65535);
	T_RUN(test_len_65536);
	T_RUN(test_len_64bit);
	T_RUN(test_close_opcode);
	T_RUN(test_mask_rfc_example);
	T_RUN(test_mask_matches_bytewise);
	T_RUN(test_mask_roundtrip);
	return t_done();
}
