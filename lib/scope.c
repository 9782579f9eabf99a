#include "scope.h"

#include <string.h>

#include "match.h"
#include "proto.h"

void wsb_scope_all(struct wsb_scope *s)
{
	s->may = WSB_SCOPE_PUB | WSB_SCOPE_SUB;
	s->types[0] = '\0';
}

int wsb_scope_parse_may(const char *list, size_t n, unsigned *may, struct wsb_err *err)
{
	size_t i = 0;

	*may = 0;
	while (i < n) {
		size_t w = i;

		while (w < n && list[w] != ',' && list[w] != ' ')
			w++;
		if (w - i == 3 && !memcmp(list + i, "pub", 3))
			*may |= WSB_SCOPE_PUB;
		else if (w - i == 3 && !memcmp(list + i, "sub", 3))
			*may |= WSB_SCOPE_SUB;
		else if (w > i)
			return wsb_err_set(err, WSB_EXIT_CONFIG, "unknown scope \"%.*s\" (pub, sub or pub,sub)",
					   (int)(w - i > 32 ? 32 : w - i), list + i);
		i = w + 1;
	}
	if (!*may)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "empty scope (pub, sub or pub,sub)");
	return 0;
}

int wsb_scope_add_type(struct wsb_scope *s, const char *glob, struct wsb_err *err)
{
	size_t have = strlen(s->types), n = strlen(glob);

	if (strchr(glob, ',') || !wsb_match_pattern_ok(glob, err))
		return strchr(glob, ',') ? wsb_err_set(err, WSB_EXIT_CONFIG, "a type glob may not hold ','") : -1;
	if (have + n + 2 > sizeof s->types)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "types= longer than %d bytes", WSB_SCOPE_TYPES_MAX - 1);
	if (have)
		s->types[have++] = ',';
	memcpy(s->types + have, glob, n + 1);
	return 0;
}

int wsb_scope_set_types(struct wsb_scope *s, const char *globs, size_t n, struct wsb_err *err)
{
	char one[WSB_TYPE_MAX + 1];
	size_t i = 0;

	s->types[0] = '\0';
	if (!n)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "types= names no type");
	while (i <= n) {
		size_t w = i;

		while (w < n && globs[w] != ',')
			w++;
		if (w - i > WSB_TYPE_MAX)
			return wsb_err_set(err, WSB_EXIT_CONFIG, "a type glob is longer than %d bytes", WSB_TYPE_MAX);
		memcpy(one, globs + i, w - i);
		one[w - i] = '\0';
		if (wsb_scope_add_type(s, one, err) < 0)
			return -1;
		i = w + 1;
	}
	return 0;
}

int wsb_scope_glob(const struct wsb_scope *s, size_t i, char *buf, size_t cap)
{
	const char *p = s->types, *e;

	if (!*p)
		return -1;
	for (; i; i--) {
		p = strchr(p, ',');
		if (!p)
			return -1;
		p++;
	}
	e = strchr(p, ',');
	if (!e)
		e = p + strlen(p);
	if ((size_t)(e - p) >= cap)
		return 0;
	memcpy(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	return (int)(e - p);
}

/* Two rows of the table "cover[i..] covers g[j..]", filled from the ends:
 * O(len(cover) * len(g)), no recursion. */
int wsb_scope_glob_covers(const char *cover, const char *g)
{
	unsigned char next[WSB_TYPE_MAX + 2], cur[WSB_TYPE_MAX + 2];
	size_t cn = strlen(cover), gn = strlen(g);

	if (cn > WSB_TYPE_MAX || gn > WSB_TYPE_MAX)
		return 0;
	memset(next, 0, sizeof next);
	next[gn] = 1;			/* both exhausted */
	for (size_t i = cn; i-- > 0;) {
		char c = cover[i];

		cur[gn] = c == '*' && next[gn];
		for (size_t j = gn; j-- > 0;) {
			if (c == '*')
				cur[j] = next[j] || cur[j + 1];
			else if (c == '?')
				cur[j] = g[j] != '*' && next[j + 1];
			else
				cur[j] = g[j] == c && next[j + 1];
		}
		memcpy(next, cur, gn + 1);
	}
	return next[0];
}

static int types_match(const struct wsb_scope *s, const char *what, int covers)
{
	char g[WSB_TYPE_MAX + 1];
	int n;

	if (!s->types[0])
		return 1;
	for (size_t i = 0; (n = wsb_scope_glob(s, i, g, sizeof g)) >= 0; i++)
		if (n > 0 && (covers ? wsb_scope_glob_covers(g, what) : wsb_match_glob(g, what)))
			return 1;
	return 0;
}

int wsb_scope_may_publish(const struct wsb_scope *s, const char *type)
{
	return (s->may & WSB_SCOPE_PUB) && types_match(s, type, 0);
}

int wsb_scope_may_subscribe(const struct wsb_scope *s, const char *pattern)
{
	return (s->may & WSB_SCOPE_SUB) && types_match(s, pattern, 1);
}

int wsb_scope_producer_ok(const char *subject, const char *id)
{
	size_t n;

	if (!subject)
		return 1;
	n = strlen(subject);
	if (!n || strncmp(id, subject, n))
		return 0;
	return id[n] == '\0' || id[n] == '.' || id[n] == ':';
}
