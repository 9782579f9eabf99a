/* frame — RFC 6455 frame headers, so a message is framed once and the same
 * bytes go to every subscriber (server side, unmasked) or are sent in
 * batches (client side, masked). Pure functions. */
#ifndef WSB_FRAME_H
#define WSB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define WSB_FRAME_HDR_MAX 14
#define WSB_OP_TEXT 0x1
#define WSB_OP_CLOSE 0x8
/* Or'ed into op: a permessage-deflate compressed message (RFC 7692). */
#define WSB_FRAME_RSV1 0x40

/* Header length for a payload of len bytes, masked (client) or not. */
size_t wsb_frame_header_len(uint64_t len, int masked);
/* Writes a FIN frame header with opcode op (and RSV1 if op has it) for len payload bytes into hdr
 * (WSB_FRAME_HDR_MAX bytes); with key != NULL sets the mask bit and appends
 * the key, and the caller masks the payload with wsb_frame_mask(). Returns
 * the header length. */
size_t wsb_frame_header(unsigned char *hdr, uint64_t len, int op, const unsigned char key[4]);
/* XORs p[0..n) with key, as payload bytes starting at payload offset 0. */
void wsb_frame_mask(unsigned char *p, size_t n, const unsigned char key[4]);
/* The same from payload offset at (only at % 4 matters). */
void wsb_frame_mask_at(unsigned char *p, size_t n, const unsigned char key[4], uint64_t at);

/* Reading frames: the header's length from its second byte b1 (mask bit
 * and length code), and the payload length from a whole header h. */
size_t wsb_frame_hdr_size(unsigned char b1);
uint64_t wsb_frame_payload_len(const unsigned char *h);

#endif
