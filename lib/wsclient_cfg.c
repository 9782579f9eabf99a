/* The pure half of the client transport (wsclient.h): what a tool derives
 * without a connection, namely its settings from the options, query strings and
 * the exit status a close code means. Apart from wsclient.c so that the
 * transport file holds the connection alone (and stays under the size rule). */
#include "wsclient.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void wsb_client_cfg_from(struct wsb_client_cfg *cc, const struct wsb_cfg *cfg, const char *query)
{
	*cc = (struct wsb_client_cfg){
		.url = cfg->url,
		.urls = cfg->urls.v,
		.nurls = cfg->urls.n,
		.query = query,
		.token = cfg->token,
		.token_file = cfg->token_file,
		.retry_min = cfg->retry_min,
		.retry_max = cfg->retry_max,
		.retries = cfg->retries,
		.ping_interval = (int)ceil(cfg->ping_interval),
		.connect_timeout = cfg->connect_timeout,
		.max_message = (size_t)cfg->max_message,
		.ca_file = cfg->cafile,
		.insecure = cfg->insecure,
		.compress = cfg->compress,
	};
}

int wsb_client_exit_code(int code)
{
	/* Too big, binary, a protocol error (a masked server frame): the
	 * same data would come again, so nothing to retry. */
	if (code == 1009 || code == 1003 || code == 1002 || code == 1007)
		return WSB_EXIT_DATAERR;
	if (code == 404 || code == WSB_CLIENT_SCHEME || code == WSB_CLIENT_TLS_TRUST)
		return WSB_EXIT_CONFIG;		/* a wrong path, scheme or CA: see wrong_path() */
	return code == 401 || code == 403 || code == 1008 ? WSB_EXIT_NOPERM : WSB_EXIT_UNAVAILABLE;
}

const char *wsb_client_refusal(int status, const char *lws_text, int token_given)
{
	/* lws says "HS: ws upgrade unauthorized" for both 401 and 403; what
	 * to do differs, and the token itself is never shown. */
	if (status != 401 && status != 403)
		return lws_text ? lws_text : "connection failed";
	if (status == 403)
		return "forbidden for this token";
	return token_given ? "token refused" : "no token given (use --token, --token-file or WSBRIDGE_TOKEN)";
}

int wsb_client_query_add(char *q, size_t cap, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(q);
	int w = snprintf(q + n, cap - n, "%s%s=", n ? "&" : "", name);

	if (w < 0 || (size_t)w >= cap - n)
		return -1;
	n += (size_t)w;
	for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
		int plain = (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
			    *v == '-' || *v == '_' || *v == '.' || *v == '~' || *v == '*';

		if (n + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			q[n++] = (char)*v;
		} else {
			q[n++] = '%';
			q[n++] = hex[*v >> 4];
			q[n++] = hex[*v & 15];
		}
	}
	q[n] = '\0';
	return 0;
}
