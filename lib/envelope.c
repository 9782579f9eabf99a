#include "envelope.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonchar.h"

/* Returned by the skip helpers for malformed input; no real index reaches it. */
#define BAD SIZE_MAX

static int is_ws(unsigned char c)
{
	return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ---- word-at-a-time search --------------------------------------------
 * The scanner spends its time in string bodies, which it only has to skip:
 * it looks at eight bytes per step for the few that need a closer look.
 * Each test leaves 0x80 in a lane that matches; a borrow only runs upward
 * from a lane that truly matched, so the lowest flag is exact (higher ones
 * may be false), and the lowest flag of an OR of tests is exact too. */

#define ONES 0x0101010101010101ULL
#define HIGH (ONES * 0x80)

enum stop {
	STOP_BODY,	/* '"', '\\', control characters, non-ASCII: validating */
	STOP_QUOTE,	/* '"', '\\': skipping a string already validated */
};

/* Eight bytes as a little-endian word: lane 0 is the first byte. */
static uint64_t load8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static uint64_t lanes_eq(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ ONES * c;

	return (x - ONES) & ~x & HIGH;
}

static uint64_t lanes_stop(uint64_t w, enum stop kind)
{
	uint64_t q = lanes_eq(w, '"') | lanes_eq(w, '\\');

	if (kind == STOP_BODY)
		q |= ((w - ONES * 0x20) & ~w & HIGH) | (w & HIGH);
	return q;
}

/* scan's last bytes, padded with a byte no kind stops at, so nothing past
 * len is read. Out of line: its array would bring the stack protector's
 * check into every call of scan. */
static size_t __attribute__((noinline)) scan_tail(const unsigned char *s, size_t i, size_t len,
						  enum stop kind)
{
	unsigned char tail[8];
	uint64_t m;

	memset(tail, 'a', sizeof tail);
	memcpy(tail, s + i, len - i);
	m = lanes_stop(load8(tail), kind);
	return m ? i + (size_t)__builtin_ctzll(m) / 8 : len;
}

/* The first index in s[i..len) whose byte is a stop of kind, or len.
 * Inlined, so each caller gets the tests of its kind only. */
static inline size_t scan(const unsigned char *s, size_t i, size_t len, enum stop kind)
{
	uint64_t m;

	for (; len - i >= 8; i += 8) {
		if ((m = lanes_stop(load8(s + i), kind)) != 0)
			return i + (size_t)__builtin_ctzll(m) / 8;
	}
	return i == len ? len : scan_tail(s, i, len, kind);
}

/* Decodes the string whose opening quote is s[i] into out (whole characters
 * only, NUL-terminated when cap > 0). Returns the index after the closing
 * quote or BAD; *n gets the bytes written, *trunc whether some did not fit.
 * Runs of plain ASCII are copied at once. */
static size_t str_decode(const char *s, size_t len, size_t i, char *out, size_t cap, size_t *n,
			 int *trunc)
{
	size_t o = 0, e, fit;
	char b[4];

	*trunc = 0;
	for (i++; i < len && s[i] != '"';) {
		int k;

		e = scan((const unsigned char *)s, i, len, STOP_BODY);
		fit = *trunc || !cap ? 0 : cap - 1 - o;
		fit = fit < e - i ? fit : e - i;
		memcpy(out + o, s + i, fit);
		o += fit;
		*trunc |= fit < e - i;
		if ((i = e) >= len || s[i] == '"')
			break;
		if ((k = wsb_jsonchar_decode(s, len, &i, b)) < 0)
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

/* ---- wsb_env_parse ----------------------------------------------------
 * Compacting only takes out white space between tokens and dropped
 * top-level members, so the output is runs of the input: the scanner
 * validates without writing and copies a run once, when white space or a
 * top-level member ends it (jp_flush). Compact input, the usual case, costs
 * a memcpy per top-level member rather than one per token. */

enum { F_OTHER, F_DROP, F_TYPE, F_DATA, F_TS, F_SEQ, F_PRODUCER, F_PSEQ };
enum { S_VALUE, S_MEMBER, S_AFTER, S_DONE, S_ERR };

struct jp {
	const unsigned char *in;
	size_t len, pos;
	size_t cp;		/* in[cp..pos) is output not yet copied */
	char *out;
	size_t o;		/* bytes copied to out */
	unsigned depth;
	/* One bit per open container (set = object): recursion would let a
	 * hostile message pick our stack depth. */
	unsigned char is_obj[WSB_JSON_MAX_DEPTH / 8];
	const char *why;
	int esc;		/* the last string scanned has a backslash */
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

static void jp_flush(struct jp *p)
{
	memcpy(p->out + p->o, p->in + p->cp, p->pos - p->cp);
	p->o += p->pos - p->cp;
	p->cp = p->pos;
}

static void jp_skip_ws(struct jp *p)
{
	jp_flush(p);
	while (++p->pos < p->len && is_ws(p->in[p->pos]))
		;
	p->cp = p->pos;
}

/* Skips white space, after copying the run it ends. Most calls find none:
 * that test is inlined, the skip is not. */
static inline void jp_ws(struct jp *p)
{
	if (p->pos < p->len && is_ws(p->in[p->pos]))
		jp_skip_ws(p);
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
	p->pos++;
	jp_ws(p);
	if (p->pos < p->len && p->in[p->pos] == (obj ? '}' : ']')) {
		p->pos++;
		p->depth--;
		return S_AFTER;
	}
	return obj ? S_MEMBER : S_VALUE;
}

/* Validates the string at in[pos]: whole runs of plain ASCII at a time,
 * escapes and multibyte characters one by one. */
static int jp_string(struct jp *p)
{
	const unsigned char *in = p->in;
	size_t i = p->pos + 1;
	const char *why;

	p->esc = 0;
	for (;;) {
		unsigned char c;

		if ((i = scan(in, i, p->len, STOP_BODY)) >= p->len) {
			why = "unterminated string";
			break;
		}
		if ((c = in[i]) == '"') {
			p->pos = i + 1;
			return S_AFTER;
		}
		if (c == '\\') {
			const char *e = i + 1 < p->len ? memchr("\"\\/bfnrtu", in[i + 1], 9) : NULL;

			why = "invalid escape in string";
			if (!e || (*e == 'u' && wsb_jsonchar_hex4((const char *)in, p->len, i) < 0))
				break;
			i += *e == 'u' ? 6 : 2;
			p->esc = 1;
		} else if (c < 0x20) {
			why = "control character in string";
			break;
		} else {
			size_t n = wsb_jsonchar_utf8_len(in + i, p->len - i);

			why = "invalid UTF-8 in string";
			if (!n)
				break;
			i += n;
		}
	}
	p->pos = i;
	return jp_fail(p, why);
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
	return S_AFTER;
}

static int jp_literal(struct jp *p, const char *lit, size_t n)
{
	if (p->len - p->pos < n || memcmp(p->in + p->pos, lit, n))
		return jp_fail(p, "expected a value");
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
	      { "producer", F_PRODUCER }, { "pseq", F_PSEQ } };

/* A key without a backslash is its own decoded form: compared as bytes,
 * and without a strlen of every name it is compared with. */
static int key_is(const char *raw, size_t n, int esc, const char *key)
{
	if (esc)
		return wsb_jsonchar_key_eq(raw, n, key);
	for (size_t i = 0; i < n; i++)
		if (!key[i] || raw[i] != key[i])
			return 0;
	return !key[n];
}

/* The field of a top-level key, and in *k its index in known (or -1). */
static int jp_classify(const char *raw, size_t n, int esc, const char *const *drop, int *k)
{
	int field = F_OTHER;

	*k = -1;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (key_is(raw, n, esc, known[i].name)) {
			field = known[i].field;
			*k = (int)i;
			break;
		}
	for (; drop && *drop; drop++)
		if (key_is(raw, n, esc, *drop))
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
	size_t at = p->pos;

	if (p->pos >= p->len)
		return jp_fail(p, "unexpected end of input");
	if (p->in[p->pos] != '"')
		return jp_fail(p, "expected a string key");
	if (top) {
		/* A top-level member starts a run of its own and writes its own
		 * comma, so a dropped one takes its comma away whatever its place. */
		jp_flush(p);
		p->mstart = p->o;
		if (p->kept)
			p->out[p->o++] = ',';
	}
	if (jp_string(p) == S_ERR)
		return S_ERR;
	if (top) {
		p->field = jp_classify((const char *)p->in + at + 1, p->pos - at - 2, p->esc, p->drop, &k);
		if (jp_once(p, k, at) == S_ERR)
			return S_ERR;
	}
	jp_ws(p);
	if (p->pos >= p->len || p->in[p->pos] != ':')
		return jp_fail(p, p->pos >= p->len ? "unexpected end of input" : "expected ':'");
	p->pos++;
	if (top)
		p->vstart = p->o + p->pos - p->cp;
	return S_VALUE;
}

/* The type, decoded; one without escapes is its own decoded form. */
static void keep_type(struct wsb_env *env, const char *s, size_t len, int esc)
{
	ssize_t n = -1;

	if (*s == '"' && !esc && len - 2 <= WSB_TYPE_MAX) {
		n = (ssize_t)(len - 2);
		memcpy(env->type, s + 1, len - 2);
		env->type[n] = '\0';
	} else if (*s == '"') {
		n = wsb_env_string(s, len, env->type, sizeof env->type);
	}
	env->has_type = n > 0;
	env->type_len = n > 0 ? (size_t)n : 0;
	if (n <= 0)
		env->type[0] = '\0';
}

/* At the end of a top-level member's value: its run is copied, then it is
 * recorded in env, or cut off again if dropped. */
static void jp_keep(struct jp *p)
{
	struct wsb_env *env = p->env;
	struct wsb_span v;

	jp_flush(p);
	if (p->field == F_DROP) {
		p->o = p->mstart;
		return;
	}
	p->kept++;
	v.off = p->vstart;
	v.len = p->o - p->vstart;
	switch (p->field) {
	case F_TYPE:
		env->type_v = v;
		keep_type(env, p->out + v.off, v.len, p->esc);
		break;
	case F_DATA:
		env->data = v;
		break;
	case F_TS:
		env->timestamp = v;
		break;
	case F_SEQ:
		env->seq_v = v;
		env->has_seq = wsb_env_uint(p->out + v.off, v.len, &env->seq) == 0;
		if (!env->has_seq)
			env->seq = 0;
		break;
	case F_PRODUCER:
		env->producer = v;
		break;
	case F_PSEQ:
		env->pseq = v;
		break;
	}
}

static int jp_after(struct jp *p)
{
	int obj, top = p->root_obj && p->depth == 1;

	if (p->depth == 0)
		return S_DONE;
	if (top)
		jp_keep(p);
	jp_ws(p);
	if (p->pos >= p->len)
		return jp_fail(p, "unexpected end of input");
	obj = jp_top_is_obj(p);
	if (p->in[p->pos] == ',') {
		/* A top-level comma is not copied: jp_member writes it. */
		p->pos++;
		if (top)
			p->cp = p->pos;
		if (!obj)
			return S_VALUE;
		jp_ws(p);
		return S_MEMBER;
	}
	if (p->in[p->pos] != (obj ? '}' : ']'))
		return jp_fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	p->pos++;
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
		jp_flush(p);
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

/* The index after the string whose opening quote is s[i], or BAD; *esc
 * tells whether it holds a backslash. */
static size_t skip_string(const char *s, size_t len, size_t i, int *esc)
{
	*esc = 0;
	for (i++; i < len; i += 2) {
		i = scan((const unsigned char *)s, i, len, STOP_QUOTE);
		if (i < len && s[i] == '"')
			return i + 1;
		*esc = 1;
	}
	return BAD;
}

/* 0x80 in exactly the lanes of w equal to c: no carry crosses a lane, so
 * every flag is true (lanes_eq only promises the lowest one). */
static uint64_t lanes_is(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ ONES * c;

	return ~(((x & ~HIGH) + ~HIGH) | x) & HIGH;
}

/* Skipping a container: nesting depth outside strings, and whether the
 * next byte is escaped. */
struct nest {
	size_t depth;
	int in_str, esc;
};

/* One byte that may matter; 1 when it closes the container. */
static int nest_byte(struct nest *n, unsigned char c)
{
	if (n->esc)
		n->esc = 0;
	else if (c == '"')
		n->in_str = !n->in_str;
	else if (n->in_str)
		n->esc = c == '\\';
	else if (c == '{' || c == '[')
		n->depth++;
	else if (c == '}' || c == ']')
		return --n->depth == 0;
	return 0;
}

/* The index after the container that opens at s[i], or BAD. Eight bytes a
 * step: every quote, backslash and bracket of the word (exact flags; | 0x20
 * folds '[' into '{' and ']' into '}') goes through nest_byte in order, and
 * nothing else; an escaped byte is visited too, whatever it is, so that it
 * cannot count. */
static size_t skip_nest(const char *s, size_t len, size_t i)
{
	const unsigned char *u = (const unsigned char *)s;
	struct nest n = { 0, 0, 0 };

	for (; len - i >= 8; i += 8) {
		uint64_t w = load8(u + i), f = w | ONES * 0x20;
		uint64_t m = lanes_is(w, '"') | lanes_is(w, '\\') | lanes_is(f, '{') | lanes_is(f, '}');

		m |= n.esc ? 0x80 : 0;
		while (m) {
			unsigned k = (unsigned)__builtin_ctzll(m) / 8;

			m &= m - 1;
			if (nest_byte(&n, u[i + k]))
				return i + k + 1;
			if (n.esc && k < 7)
				m |= 0x80ULL << (8 * (k + 1));
		}
	}
	for (; i < len; i++)
		if (nest_byte(&n, u[i]))
			return i + 1;
	return BAD;
}

static int is_scalar_end(unsigned char c)
{
	return is_ws(c) || c == ',' || c == ':' || c == ']' || c == '}';
}

/* The end of the value at s[i]. These readers trust that the text came out
 * of wsb_env_parse, so they only find boundaries; they stay in bounds on
 * anything else but do not validate it. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	size_t start = i;
	int esc;

	if (i < len && s[i] == '"')
		return skip_string(s, len, i, &esc);
	if (i < len && (s[i] == '{' || s[i] == '['))
		return skip_nest(s, len, i);
	while (i < len && !is_scalar_end((unsigned char)s[i]))
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
		int match, esc;

		k = i;
		if (k >= len || obj[k] != '"' || (i = skip_string(obj, len, k, &esc)) == BAD)
			return 0;
		match = key_is(obj + k + 1, i - k - 2, esc, key);
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
