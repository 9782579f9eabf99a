#include "jsonchar.h"

#include "envelope.h"	/* wsb_json_escape is declared there, with its callers */

#include <stdint.h>
#include <string.h>

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t wsb_jsonchar_utf8_len(const unsigned char *s, size_t n)
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

int wsb_jsonchar_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0, k;

	while (i < n) {
		for (; i + 8 <= n; i += 8) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
		}
		/* At most seven ASCII bytes before the one the word flagged. */
		while (i < n && s[i] < 0x80)
			i++;
		if (i == n)
			return 1;
		if (!(k = wsb_jsonchar_utf8_len(s + i, n - i)))
			return 0;
		i += k;
	}
	return 1;
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

long wsb_jsonchar_hex4(const char *s, size_t len, size_t i)
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
	long cp = wsb_jsonchar_hex4(s, len, *i), lo;

	if (cp < 0)
		return -1;
	*i += 6;
	lo = cp >= 0xD800 && cp <= 0xDBFF ? wsb_jsonchar_hex4(s, len, *i) : -1;
	if (lo >= 0xDC00 && lo <= 0xDFFF) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*i += 6;
	} else if (cp >= 0xD800 && cp <= 0xDFFF) {
		cp = 0xFFFD;
	}
	return (int)utf8_put((uint32_t)cp, b);
}

int wsb_jsonchar_decode(const char *s, size_t len, size_t *i, char b[4])
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (s[*i] != '\\') {
		size_t n = wsb_jsonchar_utf8_len((const unsigned char *)s + *i, len - *i);

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

int wsb_jsonchar_key_eq(const char *raw, size_t n, const char *key)
{
	size_t i = 0, kl = strlen(key), o = 0;
	char b[4];

	if (!memchr(raw, '\\', n))
		return n == kl && !memcmp(raw, key, n);
	while (i < n) {
		int k = wsb_jsonchar_decode(raw, n, &i, b);

		if (k < 0 || o + (size_t)k > kl || memcmp(key + o, b, (size_t)k))
			return 0;
		o += (size_t)k;
	}
	return o == kl;
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
		} else if ((n = wsb_jsonchar_utf8_len(u + i, len - i)) != 0) {
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
