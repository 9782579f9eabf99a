#include "frame.h"

#include <string.h>

size_t wsb_frame_header_len(uint64_t len, int masked)
{
	size_t n = len < 126 ? 2 : len <= 0xffff ? 4 : 10;

	return n + (masked ? 4 : 0);
}

size_t wsb_frame_header(unsigned char *hdr, uint64_t len, int op, const unsigned char key[4])
{
	unsigned char mask = key ? 0x80 : 0;
	size_t n;
	int i;

	/* Every message goes out whole, so FIN is always set. */
	hdr[0] = (unsigned char)(0x80 | (op & (WSB_FRAME_RSV1 | 0x0f)));
	if (len < 126) {
		hdr[1] = (unsigned char)(mask | len);
		n = 2;
	} else if (len <= 0xffff) {
		hdr[1] = mask | 126;
		hdr[2] = (unsigned char)(len >> 8);
		hdr[3] = (unsigned char)len;
		n = 4;
	} else {
		hdr[1] = mask | 127;
		for (i = 0; i < 8; i++)
			hdr[2 + i] = (unsigned char)(len >> (56 - 8 * i));
		n = 10;
	}
	if (key) {
		memcpy(hdr + n, key, 4);
		n += 4;
	}
	return n;
}

void wsb_frame_mask(unsigned char *p, size_t n, const unsigned char key[4])
{
	wsb_frame_mask_at(p, n, key, 0);
}

void wsb_frame_mask_at(unsigned char *p, size_t n, const unsigned char key[4], uint64_t at)
{
	unsigned char k8[8];
	uint64_t k, w;
	size_t i;

	/* Batches and messages can be megabytes, so XOR a word at a time;
	 * memcpy keeps it alignment- and endian-neutral. */
	for (i = 0; i < 8; i++)
		k8[i] = key[(at + i) & 3];
	memcpy(&k, k8, 8);
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		w ^= k;
		memcpy(p, &w, 8);
	}
	for (i = 0; i < n; i++)
		p[i] ^= k8[i];
}

size_t wsb_frame_hdr_size(unsigned char b1)
{
	unsigned l = b1 & 0x7f;

	return 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

uint64_t wsb_frame_payload_len(const unsigned char *h)
{
	unsigned l = h[1] & 0x7f;
	uint64_t v = 0;

	if (l < 126)
		return l;
	if (l == 126)
		return (uint64_t)h[2] << 8 | h[3];
	for (int i = 2; i < 10; i++)
		v = v << 8 | h[i];
	return v;
}
