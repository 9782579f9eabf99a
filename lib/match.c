#include "match.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"	/* WSB_TYPE_MAX */

/*
 * Only the most recent '*' needs remembering: a later star can absorb anything
 * an earlier one could, so on a mismatch we let the last star eat one more
 * byte and retry. That bounds the work at O(len(pat) * len(s)) with no
 * recursion, so "a*a*a*a*b" against a long run of 'a' cannot blow up.
 */
int wsb_match_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			if (!*pat)
				return 1;	/* a trailing star takes the rest */
			star = pat;
			resume = s;
		} else if (*pat && (*pat == '?' || *pat == *s)) {
			pat++;
			s++;
		} else if (star) {
			pat = star;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Quotes a pattern for an error message: control bytes are what made it
 * invalid, so they must show up visibly rather than garble the terminal, and
 * an over-long pattern is cut so the reason still fits in the message. */
static void quote_pattern(char *out, size_t cap, const char *pat)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)pat;

	for (; *p; p++) {
		if (o + 8 >= cap) {	/* room for "\xNN", "..." and NUL */
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

int wsb_match_pattern_ok(const char *pat, struct wsb_err *err)
{
	char q[64];
	size_t n = 0;
	const unsigned char *p;

	if (!pat || !*pat) {
		wsb_err_set(err, WSB_EXIT_USAGE, "invalid type pattern \"\": empty");
		return 0;
	}
	for (p = (const unsigned char *)pat; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			quote_pattern(q, sizeof q, pat);
			wsb_err_set(err, WSB_EXIT_USAGE,
				    "invalid type pattern \"%s\": control character at byte %zu",
				    q, (size_t)(p - (const unsigned char *)pat));
			return 0;
		}
		n++;
	}
	if (n > WSB_TYPE_MAX) {
		quote_pattern(q, sizeof q, pat);
		wsb_err_set(err, WSB_EXIT_USAGE,
			    "invalid type pattern \"%s\": %zu bytes, at most %d allowed", q, n,
			    WSB_TYPE_MAX);
		return 0;
	}
	return 1;
}

void wsb_patterns_init(struct wsb_patterns *p)
{
	p->v = NULL;
	p->n = p->cap = 0;
	p->all = 1;
}

static size_t find(const struct wsb_patterns *p, const char *pat)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->v[i], pat))
			return i;
	return (size_t)-1;
}

int wsb_patterns_add(struct wsb_patterns *p, const char *pat)
{
	char *copy;

	if (find(p, pat) != (size_t)-1)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		char **v = realloc(p->v, cap * sizeof *v);

		if (!v)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	copy = strdup(pat);
	if (!copy)
		return -1;
	p->v[p->n++] = copy;
	p->all = 0;
	return 1;
}

int wsb_patterns_remove(struct wsb_patterns *p, const char *pat)
{
	size_t i = find(p, pat);

	if (i == (size_t)-1)
		return 0;
	free(p->v[i]);
	p->v[i] = p->v[--p->n];	/* order does not matter for matching */
	return 1;
}

int wsb_patterns_match(const struct wsb_patterns *p, const char *type)
{
	size_t i;

	if (p->all)
		return 1;
	for (i = 0; i < p->n; i++)
		if (wsb_match_glob(p->v[i], type))
			return 1;
	return 0;
}

void wsb_patterns_free(struct wsb_patterns *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
	p->all = 1;
}
