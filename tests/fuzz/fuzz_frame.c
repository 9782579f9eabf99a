/* fuzz_frame — reassembly of fragmented messages under a cap, as the server
 * and client transports do it with lib/buf.h, and the frame header writer
 * and masking of lib/frame.h.
 * Input: a cap (2 bytes), then fragments: a flags byte (first/final, as lws
 * reports them) and a length-prefixed payload (possibly empty: RFC 6455
 * allows an empty first fragment). Invariants: a message is delivered
 * exactly when its final fragment arrives and equals the concatenation of
 * its fragments; growing past the cap is an error with a message, never a
 * silent drop or a write past it; and every delivered message, framed with
 * wsb_frame_header (masked or not), parses back to the same FIN, opcode,
 * length and, unmasked with the key, the same payload; masking twice is the
 * identity. */
#include "fuzz.h"

#include "buf.h"
#include "err.h"
#include "frame.h"

/* An independent RFC 6455 header parser: header length, or 0 if short. */
static size_t parse_hdr(const unsigned char *h, size_t n, int *fin, int *op, uint64_t *len,
			const unsigned char **key)
{
	size_t i = 2;

	if (n < 2)
		return 0;
	*fin = h[0] >> 7;
	*op = h[0] & 0x0f;
	*len = h[1] & 0x7f;
	if (*len == 126 || *len == 127) {
		size_t k = *len == 126 ? 2 : 8;

		if (n < 2 + k)
			return 0;
		*len = 0;
		for (; i < 2 + k; i++)
			*len = *len << 8 | h[i];
		/* Minimal encoding, as RFC 6455 5.2 requires of a sender. */
		FUZZ_CHECK(k == 2 ? *len >= 126 && *len <= 0xffff : *len > 0xffff);
	}
	*key = NULL;
	if (h[1] & 0x80) {
		if (n < i + 4)
			return 0;
		*key = h + i;
		i += 4;
	}
	return i;
}

static void roundtrip(const char *msg, size_t len, unsigned keyseed)
{
	unsigned char key[4] = { (unsigned char)keyseed, (unsigned char)(keyseed >> 8), 0x5a, 0xc3 };
	int masked = keyseed & 1, fin, op;
	unsigned char hdr[WSB_FRAME_HDR_MAX], *p;
	const unsigned char *k;
	size_t hl = wsb_frame_header(hdr, len, WSB_OP_TEXT, masked ? key : NULL), hl2;
	uint64_t l2;

	FUZZ_CHECK(hl == wsb_frame_header_len(len, masked) && hl <= WSB_FRAME_HDR_MAX);
	hl2 = parse_hdr(hdr, hl, &fin, &op, &l2, &k);
	FUZZ_CHECK(hl2 == hl && fin == 1 && op == WSB_OP_TEXT && l2 == len);
	FUZZ_CHECK(masked ? k && !memcmp(k, key, 4) : !k);
	p = (unsigned char *)fuzz_dup(msg, len);
	wsb_frame_mask(p, len, key);
	for (size_t i = 0; i < len; i++)	/* the word-at-a-time path equals the bytewise rule */
		FUZZ_CHECK(p[i] == ((unsigned char)msg[i] ^ key[i & 3]));
	wsb_frame_mask(p, len, key);
	FUZZ_CHECK(!len || !memcmp(p, msg, len));
	free(p);
}

/* Header alone for any 64-bit length and opcode (no payload needed). */
static void header_only(const uint8_t *data, size_t size)
{
	unsigned char hdr[WSB_FRAME_HDR_MAX], key[4] = { 1, 2, 3, 4 };
	const unsigned char *k;
	uint64_t len = 0, l2;
	int op = size ? data[0] & 0x0f : 0, fin, op2;
	size_t hl;

	for (size_t i = 0; i < 8 && i < size; i++)
		len = len << 8 | data[i];
	len >>= size % 57;		/* all the widths, not only huge ones */
	hl = wsb_frame_header(hdr, len, op, size & 1 ? key : NULL);
	FUZZ_CHECK(hl == wsb_frame_header_len(len, size & 1));
	FUZZ_CHECK(parse_hdr(hdr, hl, &fin, &op2, &l2, &k) == hl);
	FUZZ_CHECK(fin == 1 && op2 == op && l2 == len && !k == !(size & 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct wsb_buf rx = { NULL, 0, 0, fuzz_u16(&in) % 2048 };
	struct wsb_buf want = { NULL, 0, 0, 0 };	/* the reference: uncapped */
	struct wsb_err err;
	int inside = 0, over = 0;

	header_only(data, size);
	while (in.n) {
		unsigned f = fuzz_u8(&in);
		int first = f & 1, last = !!(f & 2);
		size_t len;
		const uint8_t *frag = fuzz_bytes(&in, 255, &len);
		char *copy = len ? fuzz_dup(frag, len) : NULL;	/* lws may hand (NULL, 0) */

		if (first || !inside) {	/* a new message starts */
			wsb_buf_reset(&rx);
			wsb_buf_reset(&want);
			inside = 1;
			over = 0;
		}
		FUZZ_CHECK(wsb_buf_append(&want, copy, len, &err) == 0);
		if (!over && wsb_buf_append(&rx, copy, len, &err) < 0) {
			FUZZ_CHECK(err.code == WSB_EXIT_DATAERR && rx.max && want.len > rx.max);
			over = 1;	/* the transport closes 1009 here */
		}
		FUZZ_CHECK(rx.len <= rx.cap && (!rx.max || rx.cap <= rx.max));
		if (last) {
			if (!over) {
				FUZZ_CHECK(rx.len == want.len);
				FUZZ_CHECK(!rx.len || !memcmp(rx.p, want.p, rx.len));
				roundtrip(rx.len ? rx.p : "", rx.len, f >> 2);
			}
			inside = 0;
			wsb_buf_shrink(&rx, f & 4 ? 0 : 4096);
		}
		free(copy);
	}
	wsb_buf_free(&rx);
	wsb_buf_free(&want);
	return 0;
}
