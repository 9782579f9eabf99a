#include "wsdoor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libwebsockets.h>

#include "admit.h"
#include "envelope.h"
#include "jwt.h"
#include "log.h"

/* hdrs: NULL, or name/value pairs ("vary:", "accept") ending in NULL. */
int wsb_door_reply(struct lws *wsi, unsigned status, const char *ctype, const char *const *hdrs,
			   const char *body, size_t len)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
	unsigned char *out;

	if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end))
		return -1;
	for (; hdrs && hdrs[0]; hdrs += 2)
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)hdrs[0], (const unsigned char *)hdrs[1],
						(int)strlen(hdrs[1]), &p, end))
			return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	/* HEAD: the same headers (content-length included), never a body (RFC 9110 §9.3.2). */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	out = malloc(LWS_PRE + len + 1);
	if (!out)
		return -1;
	memcpy(out + LWS_PRE, body, len);
	if (lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len) {
		free(out);
		return -1;
	}
	free(out);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Refuses a request with a real HTTP/1.1 status, a JSON body and extra
 * header lines (each ending in CRLF), then closes the connection.
 * lws_return_http_status() answers a refused upgrade as HTTP/1.0 with an
 * HTML page, which strict clients (Python websockets) reject as not HTTP
 * at all, hiding the status from them. */
int wsb_door_refuse(struct lws *wsi, int status, const char *reason, const char *error, const char *extra)
{
	char buf[LWS_PRE + 512], *p = buf + LWS_PRE;
	int body, n;
	char json[300], esc[280];

	/* error may quote what the client sent (a pattern): escaped, and cut
	 * short rather than broken. */
	wsb_json_escape(esc, sizeof esc - 8, error, strlen(error));
	body = snprintf(json, sizeof json, "{\"error\":%s}\n", esc);
	n = snprintf(p, sizeof buf - LWS_PRE,
		     "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
		     "connection: close\r\n%s\r\n%s",
		     status, reason, body, extra ? extra : "",
		     lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) ? "" : json);
	lws_write(wsi, (unsigned char *)p, (size_t)n, LWS_WRITE_RAW);
	return -1;
}

int wsb_door_upgrade(struct lws *wsi)
{
	char v[16], key[64];

	if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_VERSION) <= 0)
		return wsb_door_refuse(wsi, 400, "Bad Request", "missing Sec-WebSocket-Version", NULL);
	if (strcmp(v, "13"))
		return wsb_door_refuse(wsi, 426, "Upgrade Required", "unsupported WebSocket version: use 13",
			      "sec-websocket-version: 13\r\n");
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0)
		return wsb_door_refuse(wsi, 400, "Bad Request", "missing Host header", NULL);
	if (lws_hdr_copy(wsi, key, sizeof key, WSI_TOKEN_KEY) <= 0 || !wsb_admit_ws_key(key))
		return wsb_door_refuse(wsi, 400, "Bad Request", "missing or malformed Sec-WebSocket-Key", NULL);
	return 0;
}

/* An argument of the query wherever it is: lws_get_urlarg_by_name gives up
 * at the first argument longer than its buffer, hiding every one after it.
 * An argument longer than buf cannot be what we look for; it is skipped. */
static const char *query_arg(struct lws *wsi, const char *name, char *buf, int cap)
{
	size_t nl = strlen(name);
	int i, n;

	for (i = 0; (n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i)) > 0; i++) {
		if (n >= cap || lws_hdr_copy_fragment(wsi, buf, cap, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
			continue;
		if (!strncmp(buf, name, nl))
			return buf + nl;
	}
	return NULL;
}

/* The credential: Authorization: Bearer, else ?token= (browsers cannot
 * set headers). NULL: none given. */
static const char *credential(struct lws *wsi, char *tok, int cap)
{
	int n = lws_hdr_copy(wsi, tok, cap, WSI_TOKEN_HTTP_AUTHORIZATION);

	if (n > 7 && !strncasecmp(tok, "Bearer ", 7))
		return tok + 7;
	return query_arg(wsi, "token=", tok, cap);
}

int wsb_door_grant(struct lws *wsi, const struct wsb_access *a, struct wsb_grant *g, const char **why)
{
	char tok[WSB_JWT_MAX + 16];
	int r = wsb_access_check(a, credential(wsi, tok, sizeof tok), (int64_t)time(NULL), g, why);

	explicit_bzero(tok, sizeof tok);
	return r;
}

int wsb_door_scope(struct lws *wsi, const struct wsb_grant *g, const char *peer)
{
	char arg[WSB_TYPE_MAX + 16], why[200], shown[80];
	const char *no;
	int i, n;

	for (i = 0; (n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i)) > 0; i++) {
		if (n >= (int)sizeof arg || lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) < 0 ||
		    !(no = wsb_grant_arg(g, arg)))
			continue;
		wsb_admit_printable(shown, sizeof shown, strchr(arg, '=') + 1);
		snprintf(why, sizeof why, "%s: %s", no, shown);
		wsb_log(WSB_LOG_INFO, "refused a connection from %s: %s", peer, why);
		return wsb_door_refuse(wsi, 403, "Forbidden", why, NULL);
	}
	return 0;
}

int wsb_door_browser(struct lws *wsi)
{
	return lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
}
