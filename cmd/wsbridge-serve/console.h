/* console — what the broker serves to a browser (wsbridge(7), THE CONSOLE):
 * the console page and the browser client module, kept as readable files in
 * cmd/wsbridge-serve/ and embedded at build time by scripts/embed.sh, and
 * the choice at GET / between that page and the JSON service info.
 * Pure: no I/O, no libwebsockets; the routes themselves are in http.c.
 */
#ifndef WSB_CONSOLE_H
#define WSB_CONSOLE_H

#include <stddef.h>

struct wsb_embedded {
	const char *name;		/* the source file's base name */
	const unsigned char *data;	/* NUL-terminated; len leaves it out */
	size_t len;
};

/* Defined by the generated source; ends with a NULL name. */
extern const struct wsb_embedded wsb_embedded[];

/* The embedded file for an HTTP path, with its content type in *ctype:
 * "/console" is the page, "/wsbridge.js" the client. NULL for any other
 * path. */
const struct wsb_embedded *wsb_console_file(const char *path, const char **ctype);

/* 1 if an Accept header value prefers HTML to JSON: text/html (or any text type)
 * is named with a q above zero and above the q application/json gets from
 * its most specific matching range. A browser's navigation does; curl's
 * any-type range, a missing header (NULL) and anything naming only JSON do
 * not, so scripts keep getting JSON at GET /. */
int wsb_console_wants_html(const char *accept);

#endif
