/* fuzz.h — shared by the fuzz targets in tests/fuzz/fuzz_<name>.c.
 *
 * Each target is one LLVMFuzzerTestOneInput over a pure module. Built with
 * clang -fsanitize=fuzzer (make fuzz) it is a libFuzzer binary; linked with
 * replay_main.c by the normal compiler (make all) it replays the committed
 * corpus, so a crash found once stays fixed without clang (make check).
 *
 * An invariant that does not hold calls FUZZ_CHECK's abort(): libFuzzer
 * records the input as a crash and the replay driver dies loudly.
 */
#ifndef WSB_FUZZ_H
#define WSB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                               \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* Takes the input apart front to back; past the end every read yields 0,
 * so any byte string decodes to some valid sequence of operations. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline unsigned fuzz_u8(struct fuzz_in *in)
{
	unsigned v;

	if (!in->n)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static inline unsigned fuzz_u16(struct fuzz_in *in)
{
	unsigned hi = fuzz_u8(in);

	return hi << 8 | fuzz_u8(in);
}

/* Up to max bytes (the count is the next byte modulo max + 1); *len gets how
 * many. Points into the input: no copy. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
	size_t want = max ? fuzz_u8(in) % (max + 1) : 0;
	const uint8_t *p = in->p;	/* after the count byte */

	*len = want < in->n ? want : in->n;
	in->p += *len;
	in->n -= *len;
	return p;
}

/* An exact-size heap copy, NUL-terminated past len, so AddressSanitizer sees
 * a read beyond the input. Caller frees. */
static inline char *fuzz_dup(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

#endif
