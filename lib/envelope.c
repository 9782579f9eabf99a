#include "envelope.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0. The second-byte
 * ranges are the ones of RFC 3629 section 4: they exclude overlong forms,
 * UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && is_cont(s[1]) ? 2 : 0;
	if (c < 0xF0) {
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		return n >= 3 && s[1] >= lo && s[1] <= hi && is_cont(s[2]) ? 3 : 0;
	}
	if (c < 0xF5) {
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		return n >= 4 && s[1] >= lo && s[1] <= hi && is_cont(s[2]) && is_cont(s[3]) ? 4 : 0;
	}
	return 0;
}

static size_t utf8_put(uint32_t cp, char b[4])
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of the "\uXXXX" at s[i], or -1. */
static long hex4(const char *s, size_t len, size_t i)
{
	long v = 0;

	if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u')
		return -1;
	for (size_t k = i + 2; k < i + 6; k++) {
		int h = hex_val((unsigned char)s[k]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* A lone surrogate is valid JSON (RFC 8259 section 8.2 tolerates it, as jq
 * does) but has no UTF-8 form, so it decodes to U+FFFD like jq's does. */
static int dec_u(const char *s, size_t len, size_t *i, char b[4])
{
	long cp = hex4(s, len, *i), lo;

	if (cp < 0)
		return -1;
	*i += 6;
	if (cp >= 0xD800 && cp <= 0xDBFF && (lo = hex4(s, len, *i)) >= 0xDC00 && lo <= 0xDFFF) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*i += 6;
	} else if (cp >= 0xD800 && cp <= 0xDFFF) {
		cp = 0xFFFD;
	}
	return (int)utf8_put((uint32_t)cp, b);
}

/* Decodes one character of a JSON string body at s[*i] (not the closing
 * quote) into b; returns its byte count, or -1 for a malformed escape. */
static int dec_char(const char *s, size_t len, size_t *i, char b[4])
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (s[*i] != '\\') {
		/* A raw multibyte character is one unit, so truncation keeps it whole. */
		size_t n = utf8_len((const unsigned char *)s + *i, len - *i);

		n = n ? n : 1;
		memcpy(b, s + *i, n);
		*i += n;
		return (int)n;
	}
	if (*i + 1 >= len)
		return -1;
	if (s[*i + 1] == 'u')
		return dec_u(s, len, i, b);
	e = s[*i + 1] ? strchr(from, s[*i + 1]) : NULL;
	if (!e)
		return -1;
	b[0] = to[e - from];
	*i += 2;
	return 1;
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
		int k = dec_char(s, len, &i, b);

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

/* Whether the raw string body raw[0..n) (escapes as written) decodes to key.
 * Keys are decoded so "t\u0079pe" is "type", as any JSON reader sees it. */
static int key_eq(const char *raw, size_t n, const char *key)
{
	size_t i = 0, kl = strlen(key), o = 0;
	char b[4];

	if (!memchr(raw, '\\', n))
		return n == kl && !memcmp(raw, key, n);
	while (i < n) {
		int k = dec_char(raw, n, &i, b);

		if (k < 0 || o + (size_t)k > kl || memcmp(key + o, b, (size_t)k))
			return 0;
		o += (size_t)k;
	}
	return o == kl;
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

			if (!e || (*e == 'u' && hex4((const char *)in, p->len, i) < 0)) {
				p->pos = i;
				return jp_fail(p, "invalid escape in string");
			}
			i += *e == 'u' ? 6 : 2;
		} else if (c < 0x20) {
			p->pos = i;
			return jp_fail(p, "control character in string");
		} else {
			size_t n = utf8_len(in + i, p->len - i);

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
		if (key_eq(raw, n, known[i].name)) {
			field = known[i].field;
			*k = (int)i;
			break;
		}
	for (; drop && *drop; drop++)
		if (key_eq(raw, n, *drop))
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
		n = *s == '"' ? wsb_env_string(s, v.len, env->type, sizeof env->type) : -1;
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

ssize_t wsb_env_parse(const char *in, size_t len, char *out, const char *const *drop,
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
int wsb_env_lookup(const char *obj, size_t len, const char *key, struct wsb_span *val)
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
		match = key_eq(obj + k + 1, i - k - 2, key);
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

int wsb_env_strings(const char *arr, size_t len,
		    int (*fn)(void *ud, const char *s, size_t n, int too_long), void *ud,
		    size_t *skipped)
{
	size_t i = skip_ws(arr, len, 0), end, n;
	char buf[WSB_TYPE_MAX + 1];
	int count = 0, trunc;

	if (skipped)
		*skipped = 0;
	if (i >= len || arr[i] != '[')
		return -1;
	i = skip_ws(arr, len, i + 1);
	if (i < len && arr[i] == ']')
		return 0;
	for (;;) {
		if (i < len && arr[i] == '"') {
			end = str_decode(arr, len, i, buf, sizeof buf, &n, &trunc);
			if (end == BAD || fn(ud, buf, n, trunc) == -1)
				return -1;
			count++;
		} else {
			end = skip_value(arr, len, i);
			if (end == BAD)
				return -1;
			if (skipped)
				(*skipped)++;
		}
		i = skip_ws(arr, len, end);
		if (i < len && arr[i] == ']')
			return count;
		if (i >= len || arr[i] != ',')
			return -1;
		i = skip_ws(arr, len, i + 1);
	}
}

ssize_t wsb_env_string(const char *v, size_t len, char *out, size_t cap)
{
	size_t n;
	int trunc;

	if (len < 2 || v[0] != '"' || str_decode(v, len, 0, out, cap, &n, &trunc) != len || trunc ||
	    !cap)
		return -1;
	return (ssize_t)n;
}

int wsb_env_uint(const char *v, size_t len, uint64_t *out)
{
	uint64_t x = 0;

	/* JSON allows no leading zeros; "-0", fractions and exponents are not
	 * plain unsigned integers even when they denote one. */
	if (len == 0 || (v[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)v[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* ---- type names ------------------------------------------------------- */

int wsb_env_type_reserved(const char *type)
{
	static const char *const reserved[] = {
		"ping", "pong", "subscribe", "unsubscribe", "subscribed", "unsubscribed",
		"connection_established", "ack", "gap", "hello", "resume", "snapshot",
		/* requests the old systems' clients send: answered, never published */
		"heartbeat", "get_state", "request_snapshot",
	};

	if (type[0] == '$' || !strncmp(type, "wsbridge.", 9))
		return 1;
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (!strcmp(type, reserved[i]))
			return 1;
	return 0;
}

int wsb_env_type_ok(const char *type, size_t len, struct wsb_err *err)
{
	char name[WSB_TYPE_MAX + 1];

	if (len == 0)
		return wsb_err_set(err, WSB_EXIT_DATAERR, "type is empty") + 1;
	if (len > WSB_TYPE_MAX)
		return wsb_err_set(err, WSB_EXIT_DATAERR, "type is longer than %d bytes",
				   WSB_TYPE_MAX) + 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)type[i];

		/* The name is not echoed here: it would carry the control character. */
		if (c < 0x20 || c == 0x7f)
			return wsb_err_set(err, WSB_EXIT_DATAERR,
					   "type contains a control character") + 1;
	}
	memcpy(name, type, len);
	name[len] = '\0';
	/* Subscriptions are glob patterns; a type holding '*' or '?' could not
	 * be subscribed to on its own. */
	if (memchr(name, '*', len) || memchr(name, '?', len))
		return wsb_err_set(err, WSB_EXIT_DATAERR, "type '%s' contains '*' or '?'", name) + 1;
	if (wsb_env_type_reserved(name))
		return wsb_err_set(err, WSB_EXIT_DATAERR, "type '%s' is reserved", name) + 1;
	return 1;
}

/* ---- wsb_json_escape -------------------------------------------------- */

struct sink {
	char *out;
	size_t cap, o, need;
	int full;
};

/* Writes whole units or nothing, so a truncated result never ends inside an
 * escape or a UTF-8 sequence; once one unit misses, later ones are dropped
 * too, so the text is a true prefix. */
static void put(struct sink *k, const char *b, size_t n)
{
	k->need += n;
	if (k->full || k->o + n >= k->cap) {
		k->full = 1;
		return;
	}
	memcpy(k->out + k->o, b, n);
	k->o += n;
}

static void put_escaped(struct sink *k, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	switch (c) {
	case '"': put(k, "\\\"", 2); break;
	case '\\': put(k, "\\\\", 2); break;
	case '\b': put(k, "\\b", 2); break;
	case '\f': put(k, "\\f", 2); break;
	case '\n': put(k, "\\n", 2); break;
	case '\r': put(k, "\\r", 2); break;
	case '\t': put(k, "\\t", 2); break;
	default: put(k, e, 6); break;
	}
}

size_t wsb_json_escape(char *out, size_t cap, const char *s, size_t len)
{
	struct sink k = { out, cap, 0, 0, 0 };
	const unsigned char *u = (const unsigned char *)s;

	put(&k, "\"", 1);
	for (size_t i = 0; i < len;) {
		size_t n;

		if (u[i] < 0x20 || u[i] == '"' || u[i] == '\\' || u[i] == 0x7f) {
			put_escaped(&k, u[i++]);
		} else if ((n = utf8_len(u + i, len - i)) != 0) {
			put(&k, s + i, n);
			i += n;
		} else {
			put(&k, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
	put(&k, "\"", 1);
	if (cap)
		out[k.o] = '\0';
	return k.need;
}

/* ---- time ------------------------------------------------------------- */

void wsb_env_timestamp(char out[WSB_TS_LEN], const struct timespec *ts)
{
	/* The broker stamps every message; gmtime+strftime cost more than the
	 * rest of stamping, and the seconds part changes once a second. The
	 * cache makes this single-threaded, as everything around it is. */
	static time_t cached_t = (time_t)-1;
	static char cached[WSB_TS_LEN];
	static size_t cached_n;
	struct tm tm;
	time_t t = ts->tv_sec;
	int ms = (int)(ts->tv_nsec / 1000000);
	size_t n = 0;

	if (ms < 0 || ms > 999)
		ms = 0;
	if (t != cached_t) {
		/* Room for ".mmmZ" is kept back; a year too wide for the rest
		 * fails strftime and falls back to the epoch rather than a
		 * cut-off string. */
		if (gmtime_r(&t, &tm))
			n = strftime(cached, WSB_TS_LEN - 5, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!n)
			n = (size_t)snprintf(cached, WSB_TS_LEN - 5, "1970-01-01T00:00:00");
		cached_n = n;
		cached_t = t;
	}
	memcpy(out, cached, cached_n);
	n = cached_n;
	out[n++] = '.';
	out[n++] = (char)('0' + ms / 100);
	out[n++] = (char)('0' + ms / 10 % 10);
	out[n++] = (char)('0' + ms % 10);
	out[n++] = 'Z';
	out[n] = '\0';
}

void wsb_env_timestamp_now(char out[WSB_TS_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	wsb_env_timestamp(out, &ts);
}

/* The n-digit decimal at s, or -1. */
static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);

	return d[m - 1] + (m == 2 && leap);
}

/* Parses "[.frac][Z|±hh:mm|±hhmm]" at s[i..len) into *frac_ms and *off_min. */
static int parse_tail(const char *s, size_t len, size_t i, int *frac_ms, int *off_min)
{
	int oh, om, sign, mul = 100;

	if (i < len && s[i] == '.') {
		size_t d = ++i;

		/* Digits past the millisecond are truncated, not rounded, so a
		 * time never moves into the next second. */
		for (; i < len && is_digit((unsigned char)s[i]); i++, mul /= 10)
			*frac_ms += (s[i] - '0') * mul;
		if (i == d)
			return -1;
	}
	if (i == len)
		return 0;
	if (s[i] == 'Z')
		return i + 1 == len ? 0 : -1;
	if (s[i] != '+' && s[i] != '-')
		return -1;
	sign = s[i] == '-' ? -1 : 1;
	if (len - i == 6 && s[i + 3] == ':')
		om = num(s + i + 4, 2);
	else if (len - i == 5)
		om = num(s + i + 3, 2);
	else
		return -1;
	oh = num(s + i + 1, 2);
	if (oh < 0 || oh > 23 || om < 0 || om > 59)
		return -1;
	*off_min = sign * (oh * 60 + om);
	return 0;
}

int wsb_env_parse_time(const char *s, size_t len, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;
	time_t t;

	if (len < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = num(s, 4);
	mo = num(s + 5, 2);
	d = num(s + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo))
		return -1;
	if (len > 10) {
		if (len < 19 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
			return -1;
		h = num(s + 11, 2);
		mi = num(s + 14, 2);
		sec = num(s + 17, 2);
		/* 60 is a leap second (RFC 3339); timegm carries it into the next minute. */
		if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 ||
		    parse_tail(s, len, 19, &frac, &off) < 0)
			return -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
	return 0;
}
