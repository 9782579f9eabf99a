#include "console.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const struct wsb_embedded *wsb_console_file(const char *path, const char **ctype)
{
	static const struct {
		const char *path, *file, *ctype;
	} routes[] = {
		{ "/console", "console.html", "text/html; charset=utf-8" },
		{ "/wsbridge.js", "wsbridge.js", "text/javascript; charset=utf-8" },
	};

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (strcmp(path, routes[i].path))
			continue;
		for (const struct wsb_embedded *e = wsb_embedded; e->name; e++)
			if (!strcmp(e->name, routes[i].file)) {
				*ctype = routes[i].ctype;
				return e;
			}
	}
	return NULL;
}

/* q=0.8 as 800; a missing or malformed q counts as 1 (RFC 9110 §12.4.2). */
static int parse_q(const char *p, const char *end)
{
	int q = 0, scale = 100;

	for (; p < end; p++) {
		if (*p != ';')
			continue;
		while (p + 1 < end && p[1] == ' ')
			p++;
		if (end - p < 3 || tolower((unsigned char)p[1]) != 'q' || p[2] != '=')
			continue;
		p += 3;
		if (p >= end || *p != '0')
			return 1000;
		if (++p < end && *p == '.')
			p++;
		for (; p < end && isdigit((unsigned char)*p) && scale; p++, scale /= 10)
			q += (*p - '0') * scale;
		return q;
	}
	return 1000;
}

/* How specifically the range at [p, end) names type/sub: 3 exactly, 2 as
 * a type range (text/ and a star), 1 as the any-type range, 0 not at all. */
static int specificity(const char *p, const char *end, const char *type, const char *sub)
{
	size_t tl = strlen(type), sl = strlen(sub);
	const char *q = p;
	size_t n;

	while (q < end && *q != ';')
		q++;
	end = q;
	while (end > p && end[-1] == ' ')
		end--;
	n = (size_t)(end - p);
	if (n == 3 && !memcmp(p, "*/*", 3))
		return 1;
	if (n < tl + 2 || strncasecmp(p, type, tl) || p[tl] != '/')
		return 0;
	if (n == tl + 2 && p[tl + 1] == '*')
		return 2;
	return n == tl + 1 + sl && !strncasecmp(p + tl + 1, sub, sl) ? 3 : 0;
}

/* The q of the most specific range matching type/sub (-1: none), and that
 * specificity in *spec. */
static int q_for(const char *accept, const char *type, const char *sub, int *spec)
{
	int q = -1;

	*spec = 0;
	for (const char *p = accept; *p;) {
		const char *end = strchr(p, ',');
		int s;

		end = end ? end : p + strlen(p);
		while (p < end && *p == ' ')
			p++;
		s = specificity(p, end, type, sub);
		if (s > *spec) {
			*spec = s;
			q = parse_q(p, end);
		}
		p = *end ? end + 1 : end;
	}
	return q;
}

int wsb_console_wants_html(const char *accept)
{
	int hs, js, h, j;

	if (!accept)
		return 0;
	h = q_for(accept, "text", "html", &hs);
	j = q_for(accept, "application", "json", &js);
	return hs >= 2 && h > 0 && h > j;
}
