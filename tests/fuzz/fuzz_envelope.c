/* fuzz_envelope — wsb_env_parse on untrusted frames and lines.
 * Invariants: the compact form is never longer than the input, parsing it
 * again yields the same bytes and the same members (compaction is
 * idempotent), the spans lie inside it and decode with the helpers, and
 * nothing reads outside the exact-size input. The first byte picks a drop
 * list, as serve drops client-sent "seq"/"producer"/"pseq". */
#include "fuzz.h"

#include "envelope.h"

static const char *const drops[][4] = {
	{ NULL }, { "seq", NULL }, { "seq", "producer", "pseq", NULL }, { "type", "data", NULL },
};

static void check_span(const char *out, size_t len, struct wsb_span sp)
{
	FUZZ_CHECK(sp.off <= len && sp.len <= len - sp.off);
	if (sp.len)
		FUZZ_CHECK(out[sp.off] != ' ' && out[sp.off + sp.len - 1] != ' ');
}

static int count_str(void *ud, const char *s, size_t n, int too_long)
{
	FUZZ_CHECK(s[n] == '\0' && n <= WSB_TYPE_MAX);
	(*(size_t *)ud)++;
	return 0;
}

static void check_members(const char *out, size_t len, const struct wsb_env *e)
{
	char type[WSB_TYPE_MAX + 1];
	struct wsb_span v;
	uint64_t u;
	size_t n = 0;

	check_span(out, len, e->type_v);
	check_span(out, len, e->data);
	check_span(out, len, e->timestamp);
	check_span(out, len, e->seq_v);
	FUZZ_CHECK(len >= 2 && out[0] == '{' && out[len - 1] == '}');
	if (e->has_type) {
		FUZZ_CHECK(e->type_len >= 1 && e->type_len <= WSB_TYPE_MAX && e->type[e->type_len] == '\0');
		FUZZ_CHECK(wsb_env_string(out + e->type_v.off, e->type_v.len, type, sizeof type) ==
			   (ssize_t)e->type_len);
		FUZZ_CHECK(!memcmp(type, e->type, e->type_len));
		FUZZ_CHECK(wsb_env_lookup(out, len, "type", &v) == 1);
	}
	if (e->has_seq) {
		FUZZ_CHECK(wsb_env_uint(out + e->seq_v.off, e->seq_v.len, &u) == 0 && u == e->seq);
		FUZZ_CHECK(wsb_env_lookup(out, len, "seq", &v) == 1);
	}
	if (e->data.len)
		wsb_env_strings(out + e->data.off, e->data.len, count_str, &n, NULL);
}

static void same_env(const struct wsb_env *a, const struct wsb_env *b)
{
	FUZZ_CHECK(a->has_type == b->has_type && a->has_seq == b->has_seq);
	FUZZ_CHECK(!a->has_type || !strcmp(a->type, b->type));
	FUZZ_CHECK(!a->has_seq || a->seq == b->seq);
	FUZZ_CHECK(a->type_v.off == b->type_v.off && a->type_v.len == b->type_v.len);
	FUZZ_CHECK(a->data.off == b->data.off && a->data.len == b->data.len);
	FUZZ_CHECK(a->timestamp.off == b->timestamp.off && a->timestamp.len == b->timestamp.len);
	FUZZ_CHECK(a->seq_v.off == b->seq_v.off && a->seq_v.len == b->seq_v.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *drop;
	struct wsb_env e1, e2;
	struct wsb_err err;
	char *in, *out, *out2;
	ssize_t n, n2;

	if (!size)
		return 0;
	drop = drops[data[0] % 4][0] ? drops[data[0] % 4] : NULL;
	in = fuzz_dup(data + 1, size - 1);
	out = malloc(size);	/* size - 1 bytes may be written; +1 keeps malloc(0) out */
	n = wsb_env_parse(in, size - 1, out, drop, &e1, &err);
	if (n < 0) {
		FUZZ_CHECK(n == -WSB_ENV_INVALID_JSON || n == -WSB_ENV_INVALID_MESSAGE);
		FUZZ_CHECK(err.msg[0] != '\0');
	} else {
		FUZZ_CHECK((size_t)n <= size - 1);
		check_members(out, (size_t)n, &e1);
		out2 = malloc((size_t)n);
		n2 = wsb_env_parse(out, (size_t)n, out2, NULL, &e2, &err);
		FUZZ_CHECK(n2 == n && !memcmp(out, out2, (size_t)n));
		same_env(&e1, &e2);
		free(out2);
	}
	free(in);
	free(out);
	return 0;
}
