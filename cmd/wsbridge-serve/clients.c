#include "clients.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"

void wsb_clients_query_add(char *q, size_t cap, const char *arg)
{
	static const char *const secret[] = { "token=", "access_token=", "producer_secret=" };
	size_t n = strlen(q), al = strlen(arg);

	for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
		if (!strncmp(arg, secret[i], strlen(secret[i])))
			return;
	if (n + (n ? 1 : 0) + al + 4 > cap) {
		if (n + 4 < cap && (n < 3 || strcmp(q + n - 3, "...")))
			strcpy(q + n, "...");
		return;
	}
	snprintf(q + n, cap - n, "%s%s", n ? "&" : "", arg);
}

static int put_str(struct wsb_buf *b, const char *s, struct wsb_err *err)
{
	size_t need = wsb_json_escape(NULL, 0, s, strlen(s));

	if (wsb_buf_reserve(b, need + 1, err))
		return -1;
	wsb_json_escape(b->p + b->len, need + 1, s, strlen(s));
	b->len += need;
	return 0;
}

static int put_text(struct wsb_buf *b, const char *s, struct wsb_err *err)
{
	return wsb_buf_append(b, s, strlen(s), err);
}

static int put_subs(struct wsb_buf *b, const struct wsb_sess_info *si, struct wsb_err *err)
{
	if (si->all_types)
		return put_text(b, "[\"*\"]", err);
	if (put_text(b, "[", err))
		return -1;
	for (size_t i = 0; i < si->npatterns; i++)
		if ((i && put_text(b, ",", err)) || put_str(b, si->patterns[i], err))
			return -1;
	return put_text(b, "]", err);
}

static int put_one(struct wsb_buf *b, const struct wsb_conn_view *v, struct wsb_err *err)
{
	struct wsb_sess_info si;
	char nums[200];

	wsb_broker_sess_info(v->sess, &si);
	snprintf(nums, sizeof nums,
		 ",\"queued_bytes\":%" PRIu64 ",\"messages_in\":%" PRIu64 ",\"messages_out\":%" PRIu64
		 ",\"connected_since\":\"%s\"}",
		 si.queued_bytes, si.messages_in, si.messages_out, si.since);
	return put_text(b, "{\"id\":", err) || put_str(b, si.id, err) || put_text(b, ",\"remote\":", err) ||
	       put_str(b, v->remote, err) || put_text(b, ",\"path\":", err) || put_str(b, v->path, err) ||
	       put_text(b, ",\"query\":", err) || put_str(b, v->query, err) ||
	       put_text(b, ",\"producer\":", err) || put_str(b, si.producer, err) ||
	       put_text(b, ",\"subscriptions\":", err) || put_subs(b, &si, err) || put_text(b, nums, err);
}

int wsb_clients_json(struct wsb_buf *out, const struct wsb_conn_view *v, size_t n, struct wsb_err *err)
{
	size_t shown = 0;
	char tail[48];

	if (put_text(out, "{\"clients\":[", err))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].sess)
			continue;
		if ((shown++ && put_text(out, ",", err)) || put_one(out, &v[i], err))
			return -1;
	}
	snprintf(tail, sizeof tail, "],\"count\":%zu}\n", shown);
	return put_text(out, tail, err);
}
