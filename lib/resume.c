#include "resume.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"

static int producer_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == ':' || c == '-';
}

int wsb_producer_id_ok(const char *id, size_t n)
{
	if (!n || n > WSB_PRODUCER_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!producer_char(id[i]))
			return 0;
	return 1;
}

void wsb_producer_id_make(char out[WSB_PRODUCER_ID_MAX + 1], const char *host, long pid, unsigned rnd)
{
	char tail[48];
	size_t tl, room, i;

	tl = (size_t)snprintf(tail, sizeof tail, "-%ld-%04x", pid, rnd & 0xffff);
	/* "pub-" + host + tail; the pid and random part are what make it
	 * unique, so the host gives way when space runs out. */
	room = WSB_PRODUCER_ID_MAX - 4 - tl;
	memcpy(out, "pub-", 4);
	for (i = 0; host && host[i] && i < room; i++)
		out[4 + i] = producer_char(host[i]) ? host[i] : '_';
	if (!i)
		out[4 + i++] = 'x';
	memcpy(out + 4 + i, tail, tl + 1);
}

ssize_t wsb_pseq_splice(char *obj, size_t len, size_t cap, const char *producer, uint64_t pseq)
{
	char tail[WSB_PSEQ_SPLICE_MAX + 2];
	int n;

	if (len < 3 || obj[0] != '{' || obj[len - 1] != '}')
		return -1;
	n = snprintf(tail, sizeof tail, ",\"producer\":\"%s\",\"pseq\":%" PRIu64 "}", producer, pseq);
	if (n < 0 || (size_t)n >= sizeof tail || len - 1 + (size_t)n > cap)
		return -1;
	memcpy(obj + len - 1, tail, (size_t)n);
	return (ssize_t)(len - 1 + (size_t)n);
}

int wsb_epoch_ok(const char *e, size_t n)
{
	if (!n || n > WSB_EPOCH_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = e[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

static void set_epoch(struct wsb_pos *p, const char *epoch)
{
	size_t n = epoch ? strlen(epoch) : 0;

	if (n > WSB_EPOCH_MAX)
		n = WSB_EPOCH_MAX;
	memcpy(p->epoch, epoch ? epoch : "", n);
	p->epoch[n] = '\0';
}

void wsb_pos_start(struct wsb_pos *p, uint64_t seq, const char *epoch)
{
	memset(p, 0, sizeof *p);
	set_epoch(p, epoch);
	p->seq = seq;
	p->have = 1;
}

void wsb_pos_greeting(struct wsb_pos *p, const char *epoch, int has_seq, uint64_t seq)
{
	/* A server without epochs cannot say whether its numbering is the one
	 * we hold (a restart starts it again at 1): each connection starts
	 * afresh, without dedup against the last one. */
	if (!epoch || !*epoch) {
		memset(p, 0, sizeof *p);
		p->seq = seq;
		p->have = has_seq;
		return;
	}
	/* An epoch-less --since (or an old cursor) was meant for this
	 * server's numbering, so its epoch is adopted, not compared. */
	if (!p->epoch[0])
		set_epoch(p, epoch);
	if (!p->have && has_seq) {
		p->seq = seq;
		p->have = 1;
	}
}

/* A message names its epoch only if the server stamps one; without it, it
 * belongs to the epoch we know. */
static int other_epoch(const struct wsb_pos *p, const char *epoch)
{
	return epoch && *epoch && p->epoch[0] && strcmp(epoch, p->epoch);
}

int wsb_pos_dup(const struct wsb_pos *p, const char *epoch, int has_seq, uint64_t seq)
{
	return has_seq && !other_epoch(p, epoch) && p->printed && seq <= p->printed;
}

void wsb_pos_advance(struct wsb_pos *p, const char *epoch, int has_seq, uint64_t seq)
{
	if (!has_seq)
		return;
	if (other_epoch(p, epoch)) {
		set_epoch(p, epoch);
		p->seq = p->printed = 0;
	} else if (epoch && *epoch && !p->epoch[0]) {
		set_epoch(p, epoch);
	}
	p->printed = seq;
	if (!p->have || seq > p->seq)
		p->seq = seq;
	p->have = 1;
}

void wsb_pos_gap(struct wsb_pos *p, int epoch_reason, const char *new_epoch, int has_to, uint64_t to)
{
	if (epoch_reason) {
		set_epoch(p, new_epoch);
		p->seq = p->printed = 0;
		p->have = 1;
		return;
	}
	if (has_to) {
		if (!p->have || to > p->seq)
			p->seq = to;
		if (to > p->printed)
			p->printed = to;
		p->have = 1;
	}
}

void wsb_cursor_format(char out[WSB_CURSOR_LEN + 1], uint64_t seq, const char *epoch)
{
	int n;

	if (epoch && *epoch)
		n = snprintf(out, WSB_CURSOR_LEN, "{\"seq\":%" PRIu64 ",\"epoch\":\"%.*s\"}", seq, WSB_EPOCH_MAX,
			     epoch);
	else
		n = snprintf(out, WSB_CURSOR_LEN, "{\"seq\":%" PRIu64 "}", seq);
	/* The longest record is 7 + 20 + 10 + 64 + 2 = 103 bytes: n fits. */
	memset(out + n, ' ', WSB_CURSOR_LEN - 1 - (size_t)n);
	out[WSB_CURSOR_LEN - 1] = '\n';
	out[WSB_CURSOR_LEN] = '\0';
}

int wsb_cursor_parse(const char *text, size_t len, uint64_t *seq, char epoch[WSB_EPOCH_MAX + 1])
{
	char buf[WSB_CURSOR_LEN * 2];
	struct wsb_env env;
	struct wsb_span v;
	ssize_t n;

	while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r' ||
		       text[len - 1] == '\t'))
		len--;
	if (!len || len > sizeof buf)
		return -1;
	n = wsb_env_parse(text, len, buf, NULL, &env, NULL);
	if (n < 0 || !env.has_seq)
		return -1;
	*seq = env.seq;
	epoch[0] = '\0';
	if (wsb_env_lookup(buf, (size_t)n, "epoch", &v)) {
		ssize_t el = wsb_env_string(buf + v.off, v.len, epoch, WSB_EPOCH_MAX + 1);

		if (el < 0 || !wsb_epoch_ok(epoch, (size_t)el))
			return -1;
	}
	return 0;
}
