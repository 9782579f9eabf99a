/* The reference scanner: wsb_env_parse, wsb_env_lookup and wsb_env_string
 * as they were before the fast path (lib/envelope.c), byte at a time and kept
 * unchanged on purpose. See envelope_ref.h. */
#include "envelope_ref.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "jsonchar.h"

/* Returned by the skip helpers for malformed input; no real index reaches it. */
#define BAD SIZE_MAX

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Decodes the string whose opening quote is s[i] into out (whole characters
 * only, NUL-terminated when cap > 0). Returns the index after the closing
 * quote or BAD; *n gets the bytes written, *trunc whether some did not fit. */
static size_t str_decode(const char *s, size_t len, size_t i, char *out, size_t cap, size_t *n,
			 int *trunc)
{
	size_t o = 0;
	char b[4];

	*trunc = 0;
	for (i++; i < len && s[i] != '"';) {
		int k = wsb_jsonchar_decode(s, len, &i, b);

		if (k < 0)
			return BAD;
		if (*trunc || o + (size_t)k >= cap) {
			*trunc = 1;
			continue;
		}
		memcpy(out + o, b, (size_t)k);
		o += (size_t)k;
	}
	if (cap)
		out[o] = '\0';
	*n = o;
	return i < len ? i + 1 : BAD;
}

/* ---- wsb_env_parse ---------------------------------------------------- */

enum { F_OTHER, F_DROP, F_TYPE, F_DATA, F_TS, F_SEQ };
enum { S_VALUE, S_MEMBER, S_AFTER, S_DONE, S_ERR };

struct jp {
	const unsigned char *in;
	size_t len, pos;
	char *out;
	size_t o;
	unsigned depth;
	/* One bit per open container (set = object): recursion would let a
	 * hostile message pick our stack depth. */
	unsigned char is_obj[WSB_JSON_MAX_DEPTH / 8];
	const char *why;
	/* Top-level object bookkeeping. */
	int root_obj;
	size_t kept, mstart, vstart;
	int field;
	unsigned seen;		/* bits of known[] met at the top level */
	const char *dup;	/* the repeated member, when that failed the parse */
	const char *const *drop;
	struct wsb_env *env;
};

static int jp_fail(struct jp *p, const char *why)
{
	p->why = why;
	return S_ERR;
}

static void jp_ws(struct jp *p)
{
	while (p->pos < p->len && is_ws(p->in[p->pos]))
		p->pos++;
}

static int jp_top_is_obj(const struct jp *p)
{
	unsigned d = p->depth - 1;

	return p->is_obj[d / 8] >> (d % 8) & 1;
}

static int jp_open(struct jp *p, int obj)
{
	unsigned d = p->depth;

	if (d == WSB_JSON_MAX_DEPTH)
		return jp_fail(p, "nesting deeper than 256 levels");
	if (obj)
		p->is_obj[d / 8] |= (unsigned char)(1u << (d % 8));
	else
		p->is_obj[d / 8] &= (unsigned char)~(1u << (d % 8));
	p->depth++;
	p->out[p->o++] = (char)p->in[p->pos++];
	jp_ws(p);
	if (p->pos < p->len && p->in[p->pos] == (obj ? '}' : ']')) {
		p->out[p->o++] = (char)p->in[p->pos++];
		p->depth--;
		return S_AFTER;
	}
	return obj ? S_MEMBER : S_VALUE;
}

static int jp_string(struct jp *p)
{
	const unsigned char *in = p->in;
	size_t i = p->pos + 1, start = p->pos;

	for (;;) {
		unsigned char c;

		while (i < p->len && (c = in[i]) >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			i++;
		if (i >= p->len) {
			p->pos = i;
			return jp_fail(p, "unterminated string");
		}
		c = in[i];
		if (c == '"')
			break;
		if (c == '\\') {
			const char *e = i + 1 < p->len ? memchr("\"\\/bfnrtu", in[i + 1], 9) : NULL;

			if (!e || (*e == 'u' && wsb_jsonchar_hex4((const char *)in, p->len, i) < 0)) {
				p->pos = i;
				return jp_fail(p, "invalid escape in string");
			}
			i += *e == 'u' ? 6 : 2;
		} else if (c < 0x20) {
			p->pos = i;
			return jp_fail(p, "control character in string");
		} else {
			size_t n = wsb_jsonchar_utf8_len(in + i, p->len - i);

			if (!n) {
				p->pos = i;
				return jp_fail(p, "invalid UTF-8 in string");
			}
			i += n;
		}
	}
	i++;
	memcpy(p->out + p->o, in + start, i - start);
	p->o += i - start;
	p->pos = i;
	return S_AFTER;
}

static int jp_digits(struct jp *p, const char *why)
{
	if (p->pos >= p->len || !is_digit(p->in[p->pos]))
		return jp_fail(p, why);
	while (p->pos < p->len && is_digit(p->in[p->pos]))
		p->pos++;
	return S_AFTER;
}

static int jp_number(struct jp *p)
{
	size_t start = p->pos;

	if (p->in[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->in[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && is_digit(p->in[p->pos]))
			return jp_fail(p, "leading zero in number");
	} else if (jp_digits(p, "expected a digit") == S_ERR) {
		return S_ERR;
	}
	if (p->pos < p->len && p->in[p->pos] == '.') {
		p->pos++;
		if (jp_digits(p, "expected a digit after '.'") == S_ERR)
			return S_ERR;
	}
	if (p->pos < p->len && (p->in[p->pos] == 'e' || p->in[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->in[p->pos] == '+' || p->in[p->pos] == '-'))
			p->pos++;
		if (jp_digits(p, "expected a digit in exponent") == S_ERR)
			return S_ERR;
	}
	memcpy(p->out + p->o, p->in + start, p->pos - start);
	p->o += p->pos - start;
	return S_AFTER;
}

static int jp_literal(struct jp *p, const char *lit, size_t n)
{
	if (p->len - p->pos < n || memcmp(p->in + p->pos, lit, n))
		return jp_fail(p, "expected a value");
	memcpy(p->out + p->o, lit, n);
	p->o += n;
	p->pos += n;
	return S_AFTER;
}

static int jp_value(struct jp *p)
{
	jp_ws(p);
	if (p->pos >= p->len)
		return jp_fail(p, "unexpected end of input");
	switch (p->in[p->pos]) {
	case '{':
		return jp_open(p, 1);
	case '[':
		return jp_open(p, 0);
	case '"':
		return jp_string(p);
	case 't':
		return jp_literal(p, "true", 4);
	case 'f':
		return jp_literal(p, "false", 5);
	case 'n':
		return jp_literal(p, "null", 4);
	default:
		if (p->in[p->pos] == '-' || is_digit(p->in[p->pos]))
			return jp_number(p);
		return jp_fail(p, "expected a value");
	}
}

/* The members wsbridge reads (routing, stamping, dedup) may appear once at
 * the top level: with two "type"s, the broker would route by one while a
 * subscriber's JSON reader may see the other. One bit each in jp.seen. */
static const struct {
	const char *name;
	int field;
} known[] = { { "type", F_TYPE }, { "data", F_DATA }, { "timestamp", F_TS }, { "seq", F_SEQ },
	      { "producer", F_OTHER }, { "pseq", F_OTHER } };

/* The field of a top-level key, and in *k its index in known (or -1). */
static int jp_classify(const char *raw, size_t n, const char *const *drop, int *k)
{
	int field = F_OTHER;

	*k = -1;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (wsb_jsonchar_key_eq(raw, n, known[i].name)) {
			field = known[i].field;
			*k = (int)i;
			break;
		}
	for (; drop && *drop; drop++)
		if (wsb_jsonchar_key_eq(raw, n, *drop))
			return F_DROP;
	return field;
}

/* A repeated envelope member fails the parse as a message (not JSON)
 * error, at the second occurrence: no extra pass, no allocation. */
static int jp_once(struct jp *p, int k, size_t at)
{
	if (k < 0)
		return 0;
	if (p->seen & 1u << k) {
		p->pos = at;
		p->dup = known[k].name;
		return jp_fail(p, "duplicate member");
	}
	p->seen |= 1u << k;
	return 0;
}

static int jp_member(struct jp *p)
{
	int top = p->root_obj && p->depth == 1, k;
	size_t key, at = p->pos;

	if (p->pos >= p->len)
		return jp_fail(p, "unexpected end of input");
	if (p->in[p->pos] != '"')
		return jp_fail(p, "expected a string key");
	if (top) {
		/* Top-level commas are written here rather than where they are read,
		 * so a dropped member takes its own comma away whatever its place. */
		p->mstart = p->o;
		if (p->kept)
			p->out[p->o++] = ',';
	}
	key = p->o;
	if (jp_string(p) == S_ERR)
		return S_ERR;
	if (top) {
		p->field = jp_classify(p->out + key + 1, p->o - key - 2, p->drop, &k);
		if (jp_once(p, k, at) == S_ERR)
			return S_ERR;
	}
	jp_ws(p);
	if (p->pos >= p->len || p->in[p->pos] != ':')
		return jp_fail(p, p->pos >= p->len ? "unexpected end of input" : "expected ':'");
	p->out[p->o++] = ':';
	p->pos++;
	if (top)
		p->vstart = p->o;
	return S_VALUE;
}

static void jp_keep(struct jp *p)
{
	struct wsb_env *env = p->env;
	struct wsb_span v = { p->vstart, p->o - p->vstart };
	const char *s = p->out + v.off;
	ssize_t n;

	if (p->field == F_DROP) {
		p->o = p->mstart;
		return;
	}
	p->kept++;
	switch (p->field) {
	case F_TYPE:
		env->type_v = v;
		n = *s == '"' ? wsb_env_string_ref(s, v.len, env->type, sizeof env->type) : -1;
		env->has_type = n > 0;
		env->type_len = n > 0 ? (size_t)n : 0;
		if (n <= 0)
			env->type[0] = '\0';
		break;
	case F_DATA:
		env->data = v;
		break;
	case F_TS:
		env->timestamp = v;
		break;
	case F_SEQ:
		env->seq_v = v;
		env->has_seq = wsb_env_uint(s, v.len, &env->seq) == 0;
		if (!env->has_seq)
			env->seq = 0;
		break;
	}
}

static int jp_after(struct jp *p)
{
	int obj;

	if (p->depth == 0)
		return S_DONE;
	if (p->root_obj && p->depth == 1)
		jp_keep(p);
	jp_ws(p);
	if (p->pos >= p->len)
		return jp_fail(p, "unexpected end of input");
	obj = jp_top_is_obj(p);
	if (p->in[p->pos] == ',') {
		p->pos++;
		if (!(p->root_obj && p->depth == 1))
			p->out[p->o++] = ',';
		if (!obj)
			return S_VALUE;
		jp_ws(p);
		return S_MEMBER;
	}
	if (p->in[p->pos] != (obj ? '}' : ']'))
		return jp_fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	p->out[p->o++] = (char)p->in[p->pos++];
	p->depth--;
	return S_AFTER;
}

static int jp_run(struct jp *p)
{
	int s = S_VALUE;

	while (s != S_DONE && s != S_ERR) {
		if (s == S_VALUE)
			s = jp_value(p);
		else if (s == S_MEMBER)
			s = jp_member(p);
		else
			s = jp_after(p);
	}
	if (s == S_DONE) {
		jp_ws(p);
		if (p->pos < p->len)
			s = jp_fail(p, "unexpected data after the value");
	}
	return s;
}

ssize_t wsb_env_parse_ref(const char *in, size_t len, char *out, const char *const *drop,
		      struct wsb_env *env, struct wsb_err *err)
{
	struct wsb_env dummy;
	struct jp p;

	if (!env)
		env = &dummy;
	memset(env, 0, sizeof *env);
	memset(&p, 0, sizeof p);
	p.in = (const unsigned char *)in;
	p.len = len;
	p.out = out;
	p.drop = drop;
	p.env = env;
	jp_ws(&p);
	if (p.pos >= len) {
		wsb_err_set(err, WSB_EXIT_DATAERR, "invalid JSON at byte %zu: empty input", p.pos);
		return -WSB_ENV_INVALID_JSON;
	}
	p.root_obj = p.in[p.pos] == '{';
	if (len > SSIZE_MAX || jp_run(&p) == S_ERR) {
		memset(env, 0, sizeof *env);
		if (p.dup) {
			wsb_err_set(err, WSB_EXIT_DATAERR, "message has \"%s\" twice (at byte %zu)",
				    p.dup, p.pos);
			return -WSB_ENV_INVALID_MESSAGE;
		}
		wsb_err_set(err, WSB_EXIT_DATAERR, "invalid JSON at byte %zu: %s", p.pos,
			    p.why ? p.why : "message too long");
		return -WSB_ENV_INVALID_JSON;
	}
	if (!p.root_obj) {
		memset(env, 0, sizeof *env);
		wsb_err_set(err, WSB_EXIT_DATAERR, "message is not a JSON object");
		return -WSB_ENV_INVALID_MESSAGE;
	}
	return (ssize_t)p.o;
}

/* ---- readers of compact JSON ------------------------------------------ */

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && is_ws((unsigned char)s[i]))
		i++;
	return i;
}

static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return BAD;
}

/* The end of the value at s[i]. These readers trust that the text came out
 * of wsb_env_parse, so they only find boundaries; they stay in bounds on
 * anything else but do not validate it. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	size_t depth = 0, start = i;

	if (i < len && s[i] == '"')
		return skip_string(s, len, i);
	if (i < len && (s[i] == '{' || s[i] == '[')) {
		while (i < len) {
			char c = s[i];

			if (c == '"') {
				if ((i = skip_string(s, len, i)) == BAD)
					return BAD;
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return BAD;
	}
	while (i < len && !is_ws((unsigned char)s[i]) && !memchr(",:]}", s[i], 4))
		i++;
	return i > start ? i : BAD;
}

/* Keys are compared decoded, so "t\u0079pe" finds "type" as in wsb_env_parse;
 * a later duplicate wins (wsb_env_parse refuses those that matter). */
int wsb_env_lookup_ref(const char *obj, size_t len, const char *key, struct wsb_span *val)
{
	size_t i = skip_ws(obj, len, 0), k, v;
	struct wsb_span found = { 0, 0 };
	int hit = 0;

	if (i >= len || obj[i] != '{')
		return 0;
	i = skip_ws(obj, len, i + 1);
	if (i < len && obj[i] == '}')
		return 0;
	for (;;) {
		int match;

		k = i;
		if (k >= len || obj[k] != '"' || (i = skip_string(obj, len, k)) == BAD)
			return 0;
		match = wsb_jsonchar_key_eq(obj + k + 1, i - k - 2, key);
		i = skip_ws(obj, len, i);
		if (i >= len || obj[i] != ':')
			return 0;
		v = skip_ws(obj, len, i + 1);
		if ((i = skip_value(obj, len, v)) == BAD)
			return 0;
		if (match) {
			found.off = v;
			found.len = i - v;
			hit = 1;
		}
		i = skip_ws(obj, len, i);
		if (i < len && obj[i] == '}')
			break;
		if (i >= len || obj[i] != ',')
			return 0;
		i = skip_ws(obj, len, i + 1);
	}
	if (hit && val)
		*val = found;
	return hit;
}

ssize_t wsb_env_string_ref(const char *v, size_t len, char *out, size_t cap)
{
	size_t n = 0;	/* set whenever str_decode succeeds; for -Wmaybe-uninitialized */
	int trunc;

	if (len < 2 || v[0] != '"' || str_decode(v, len, 0, out, cap, &n, &trunc) != len || trunc ||
	    !cap)
		return -1;
	return (ssize_t)n;
}

