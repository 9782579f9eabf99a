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
	size_t i = 0;

	/* Client batches can be megabytes, so XOR a word at a time. Payload
	 * offset 0 is at p, so a word starting at a multiple of 8 sees the key
	 * twice in byte order; memcpy keeps it alignment- and endian-neutral. */
	if (n >= 16) {
		unsigned char k8[8];
		uint64_t k, w;

		memcpy(k8, key, 4);
		memcpy(k8 + 4, key, 4);
		memcpy(&k, k8, 8);
		for (; i + 8 <= n; i += 8) {
			memcpy(&w, p + i, 8);
			w ^= k;
			memcpy(p + i, &w, 8);
		}
	}
	for (; i < n; i++)
		p[i] ^= key[i & 3];
}
