#include "msg.h"

#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "frame.h"

struct wsb_msg *wsb_msg_alloc(size_t cap)
{
	struct wsb_msg *m;

	if (cap > SIZE_MAX - sizeof *m - WSB_FRAME_HDR_MAX)
		return NULL;
	m = malloc(sizeof *m + WSB_FRAME_HDR_MAX + cap);
	if (!m)
		return NULL;
	m->refs = 1;
	m->qrefs = 0;
	m->seq = 0;
	m->stamped = 0;
	m->plain = NULL;
	m->off = m->len = 0;
	return m;
}

char *wsb_msg_payload(struct wsb_msg *m)
{
	return (char *)m->buf + WSB_FRAME_HDR_MAX;
}

/* The header goes right in front of the payload, so the frame is one
 * contiguous run of bytes that every subscriber can be handed as is. */
void wsb_msg_seal(struct wsb_msg *m, size_t plen)
{
	unsigned char hdr[WSB_FRAME_HDR_MAX];
	size_t h = wsb_frame_header(hdr, plen, WSB_OP_TEXT, NULL);

	m->off = WSB_FRAME_HDR_MAX - h;
	memcpy(m->buf + m->off, hdr, h);
	m->len = h + plen;
}

const char *wsb_msg_json(const struct wsb_msg *m, size_t *len)
{
	*len = m->len - (WSB_FRAME_HDR_MAX - m->off);
	return (const char *)m->buf + WSB_FRAME_HDR_MAX;
}

struct wsb_msg *wsb_msg_shrink(struct wsb_msg *m, size_t plen)
{
	struct wsb_msg *small = realloc(m, sizeof *m + WSB_FRAME_HDR_MAX + plen);

	return small ? small : m;
}

void wsb_msg_unref(struct wsb_msg *m)
{
	if (m && --m->refs == 0) {
		wsb_msg_unref(m->plain);
		free(m);
	}
}

/* Re-parsing drops the two members wherever the producer put them; it runs
 * once per message, not once per reader. */
struct wsb_msg *wsb_msg_form(struct wsb_msg *m, int stamp)
{
	static const char *const drop[] = { "producer", "pseq", NULL };
	struct wsb_msg *p;
	struct wsb_env env;
	size_t len;
	const char *obj;
	ssize_t n;

	if (stamp || !m->stamped || m->plain)
		return stamp || !m->stamped ? m : m->plain;
	obj = wsb_msg_json(m, &len);
	if (!(p = wsb_msg_alloc(len)))
		return NULL;
	n = wsb_env_parse(obj, len, wsb_msg_payload(p), drop, &env, NULL);
	if (n < 0) {
		wsb_msg_unref(p);	/* cannot happen: m was compacted by the parser */
		return NULL;
	}
	wsb_msg_seal(p, (size_t)n);
	p->seq = m->seq;
	m->plain = p;
	return p;
}

int wsb_out_fits(const struct wsb_out *o, size_t n)
{
	return !((o->total && o->total + n > o->soft) || n > o->hard - o->total);
}

int wsb_out_put(struct wsb_out *o, const struct wsb_msg *m)
{
	if (!wsb_out_fits(o, m->len))
		return 0;
	memcpy(o->p + o->total, m->buf + m->off, m->len);
	o->total += m->len;
	return 1;
}
