/* fuzz_envelope_diff — the envelope scanner's fast path (lib/envelope.c)
 * against its byte-at-a-time reference (lib/envelope_ref.c): on every input
 * both must return the same value with the same error text, write the same
 * compact bytes and fill env the same (type, seq, every span). The readers
 * are held to the reference too, on the compact output and on the raw input
 * (where they promise only to stay in bounds, but the same answer costs
 * nothing): wsb_env_lookup for each envelope member and for a key taken
 * from the input, wsb_env_string at several capacities. The first byte
 * picks a drop list, as in fuzz_envelope; its high bits a capacity.
 * Inputs are exact-size heap copies, so a word-at-a-time read past the end
 * is an AddressSanitizer report. */
#include "fuzz.h"

#include "envelope.h"
#include "envelope_ref.h"

static const char *const drops[][4] = {
	{ NULL }, { "seq", NULL }, { "seq", "producer", "pseq", NULL }, { "producer", "pseq", NULL },
};

static void same_span(struct wsb_span a, struct wsb_span b)
{
	FUZZ_CHECK(a.off == b.off && a.len == b.len);
}

static void same_lookup(const char *s, size_t len, const char *key)
{
	struct wsb_span a = { 7, 7 }, b = { 7, 7 };

	FUZZ_CHECK(wsb_env_lookup(s, len, key, &a) == wsb_env_lookup_ref(s, len, key, &b));
	same_span(a, b);
}

/* wsb_env_string against the reference at a few capacities, the output
 * compared up to the NUL both must write. */
static void same_string(const char *s, size_t len, size_t cap_hint)
{
	size_t caps[] = { 0, 1, 2, 5, WSB_TYPE_MAX + 1, cap_hint, len + 1 };
	size_t room = len + 1 > 256 ? len + 1 : 256;	/* >= every cap */
	char *a = malloc(room), *b = malloc(room);

	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		ssize_t x = wsb_env_string(s, len, a, caps[i]), y = wsb_env_string_ref(s, len, b, caps[i]);

		FUZZ_CHECK(x == y);
		if (x >= 0)
			FUZZ_CHECK(!memcmp(a, b, (size_t)x + 1));
	}
	free(a);
	free(b);
}

/* The first key of the input, raw (escapes as written, at most 40 bytes),
 * so lookups also ask for names the fuzzer invents. */
static void first_key(const char *s, size_t len, char *key)
{
	const char *q = memchr(s, '"', len), *e;
	size_t n;

	key[0] = '\0';
	if (!q || !(e = memchr(q + 1, '"', len - (size_t)(q + 1 - s))))
		return;
	n = (size_t)(e - q - 1) < 40 ? (size_t)(e - q - 1) : 40;
	memcpy(key, q + 1, n);
	key[n] = '\0';
}

static void same_readers(const char *s, size_t len, size_t cap_hint)
{
	static const char *const keys[] = { "type", "data", "timestamp", "seq", "producer", "pseq", "" };
	char key[41];

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		same_lookup(s, len, keys[i]);
	first_key(s, len, key);
	same_lookup(s, len, key);
	same_string(s, len, cap_hint);
}

static void same_env(const struct wsb_env *a, const struct wsb_env *b)
{
	FUZZ_CHECK(a->has_type == b->has_type && a->type_len == b->type_len);
	FUZZ_CHECK(!memcmp(a->type, b->type, sizeof a->type));
	FUZZ_CHECK(a->has_seq == b->has_seq && a->seq == b->seq);
	same_span(a->type_v, b->type_v);
	same_span(a->data, b->data);
	same_span(a->timestamp, b->timestamp);
	same_span(a->seq_v, b->seq_v);
}

/* producer and pseq are spans the reference does not fill: they must be
 * what its lookup finds in the output (absent when dropped). */
static void check_stamp_spans(const char *out, size_t n, const struct wsb_env *e)
{
	struct wsb_span v;

	FUZZ_CHECK(wsb_env_lookup_ref(out, n, "producer", &v) ? e->producer.off == v.off &&
		   e->producer.len == v.len : e->producer.len == 0);
	FUZZ_CHECK(wsb_env_lookup_ref(out, n, "pseq", &v) ? e->pseq.off == v.off &&
		   e->pseq.len == v.len : e->pseq.len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *drop;
	struct wsb_env ea, eb;
	struct wsb_err xa, xb;
	char *in, *oa, *ob;
	ssize_t na, nb;

	if (!size)
		return 0;
	drop = drops[data[0] % 4][0] ? drops[data[0] % 4] : NULL;
	in = fuzz_dup(data + 1, size - 1);
	oa = malloc(size);
	ob = malloc(size);
	wsb_err_clear(&xa);
	wsb_err_clear(&xb);
	na = wsb_env_parse(in, size - 1, oa, drop, &ea, &xa);
	nb = wsb_env_parse_ref(in, size - 1, ob, drop, &eb, &xb);
	FUZZ_CHECK(na == nb);
	FUZZ_CHECK(!strcmp(xa.msg, xb.msg) && xa.code == xb.code);
	same_env(&ea, &eb);
	if (na >= 0) {
		FUZZ_CHECK(!memcmp(oa, ob, (size_t)na));
		check_stamp_spans(oa, (size_t)na, &ea);
		same_readers(oa, (size_t)na, data[0] >> 2);
		if (ea.data.len)
			same_readers(oa + ea.data.off, ea.data.len, data[0] >> 2);
	}
	same_readers(in, size - 1, data[0] >> 2);
	free(in);
	free(oa);
	free(ob);
	return 0;
}
