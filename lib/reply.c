#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "err.h"
#include "frame.h"

static size_t put_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static size_t put(char *out, const char *s, size_t n)
{
	memcpy(out, s, n);
	return n;
}

#define PUTS(out, lit) put((out), (lit), sizeof(lit) - 1)

/* Hand-written rather than printf: it runs once per published message. */
size_t wsb_reply_stamp(char *p, size_t n, const char *ts, uint64_t seq)
{
	size_t o = n - 1;	/* overwrite the closing '}' */

	if (ts) {
		o += PUTS(p + o, ",\"timestamp\":\"");
		o += put(p + o, ts, strlen(ts));
		p[o++] = '"';
	}
	o += PUTS(p + o, ",\"seq\":");
	o += put_u64(p + o, seq);
	p[o++] = '}';
	return o;
}

size_t wsb_reply_stamp_ts(char *p, size_t n, const char *ts)
{
	size_t o = n - 1;

	o += PUTS(p + o, ",\"timestamp\":\"");
	o += put(p + o, ts, strlen(ts));
	p[o++] = '"';
	p[o++] = '}';
	return o;
}

struct wsb_msg *wsb_reply_error(const char *ts, const char *code, const char *text)
{
	char esc[WSB_ERR_LEN * 6 + 3];
	size_t elen, n;
	struct wsb_msg *m;

	elen = wsb_json_escape(esc, sizeof esc, text, strnlen(text, WSB_ERR_LEN));
	if (elen >= sizeof esc)
		return NULL;	/* cannot happen: WSB_ERR_LEN bounds text */
	m = wsb_msg_alloc(elen + 128);
	if (!m)
		return NULL;
	n = (size_t)sprintf(wsb_msg_payload(m), "{\"type\":\"error\",\"timestamp\":\"%s\","
			    "\"data\":{\"code\":\"%s\",\"message\":%s,\"source\":\"wsbridge\"}}",
			    ts, code, esc);
	wsb_msg_seal(m, n);
	return m;
}

struct wsb_msg *wsb_reply_pong(const char *ts, const char *data, size_t dlen)
{
	struct wsb_msg *m = wsb_msg_alloc(dlen + WSB_STAMP_MAX);
	char *p;
	size_t n;

	if (!m)
		return NULL;
	p = wsb_msg_payload(m);
	n = PUTS(p, "{\"type\":\"pong\",\"timestamp\":\"");
	n += put(p + n, ts, strlen(ts));
	p[n++] = '"';
	if (dlen) {
		n += PUTS(p + n, ",\"data\":");
		n += put(p + n, data, dlen);
	}
	p[n++] = '}';
	wsb_msg_seal(m, n);
	return m;
}

/* Records shorter than 126 bytes: a two-byte header, FIN + text. */
/* A reply is a frame like any other in a take: only the first may pass
 * soft (the fuzzer found gap records that did). */
static size_t put_small(struct wsb_out *o, const char *p, size_t n)
{
	if (!wsb_out_fits(o, n + 2))
		return 0;
	o->p[o->total] = 0x81;
	o->p[o->total + 1] = (unsigned char)n;
	memcpy(o->p + o->total + 2, p, n);
	o->total += n + 2;
	return n + 2;
}

size_t wsb_reply_gap(struct wsb_out *o, uint64_t from, uint64_t to, const char *reason,
		     const char *epoch)
{
	char p[160];
	size_t n = PUTS(p, "{\"type\":\"gap\",\"from\":");

	n += put_u64(p + n, from);
	n += PUTS(p + n, ",\"to\":");
	if (to)
		n += put_u64(p + n, to);
	else
		n += PUTS(p + n, "null");
	n += (size_t)snprintf(p + n, sizeof p - n, ",\"reason\":\"%s\",\"epoch\":\"%s\"}", reason,
			      epoch);
	return put_small(o, p, n);	/* always < 126: two u64, short reason, 16-hex epoch */
}

struct wsb_msg *wsb_reply_gap_msg(uint64_t from, uint64_t to, const char *reason, const char *epoch)
{
	struct wsb_msg *m = wsb_msg_alloc(200);
	struct wsb_out o;

	if (!m)
		return NULL;
	/* A whole frame at buf: kept as it is, no seal. */
	o = (struct wsb_out){ m->buf, 0, WSB_FRAME_HDR_MAX + 200, WSB_FRAME_HDR_MAX + 200 };
	m->off = 0;
	m->len = wsb_reply_gap(&o, from, to, reason, epoch);
	return m;
}

size_t wsb_reply_ack(struct wsb_out *o, uint64_t pseq)
{
	char p[64];
	size_t n = PUTS(p, "{\"type\":\"ack\",\"pseq\":");

	n += put_u64(p + n, pseq);
	p[n++] = '}';
	return put_small(o, p, n);
}
