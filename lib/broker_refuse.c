/* broker_refuse — what refusing a publish says and what follows it
 * (broker.h, "Integrity"). Part of the broker: it shares struct
 * wsb_broker with broker.c through broker_int.h.
 *
 * A producer's acks are cumulative ("every message up to pseq N is
 * accepted"), so an ack after a refused message would cover it: a client
 * that trusts acks and reads errors late, or not at all, would drop the
 * refused line as delivered. So the first refusal of anything a producer's
 * connection sends to publish (a bad line, outside its scope, over the
 * rate, a wrong pseq, the seq space or the cluster gone) is its last:
 * every later publish on that connection is answered with the same code
 * and nothing more is published or acknowledged. The publisher reconnects
 * and sends again from the greeting's "accepted", which still names the
 * message before the refused one. A plain connection is never
 * acknowledged, so a refusal there refuses that message alone.
 */
#include <stdio.h>

#include "allow.h"
#include "broker_int.h"

void wsb_brk_refuse(struct wsb_broker *b, struct wsb_sess *s, const char *code, const char *text,
		    int say)
{
	wsb_brk_reply_error(b, s, code, text);
	if (say && b->hooks.refused)
		b->hooks.refused(b->hooks.ud, s->id, code, text);
	if (s->prod && s->pub && !s->pub->refused)
		s->pub->refused = code;
}

int wsb_brk_refused_before(struct wsb_broker *b, struct wsb_sess *s)
{
	char text[200];

	if (!s->prod || !s->pub || !s->pub->refused)
		return 0;
	snprintf(text, sizeof text, "an earlier message on this connection was refused (%s): acks are "
		 "cumulative, so nothing more is published on it; reconnect and send again",
		 s->pub->refused);
	wsb_brk_reply_error(b, s, s->pub->refused, text);
	return 1;
}

/* The one place that says whether s may publish type now (allow.h: read-only,
 * scope, --rate); other reasons to refuse extend it, not its callers. */
int wsb_brk_may_publish(struct wsb_broker *b, struct wsb_sess *s, const char *type)
{
	char text[300];
	uint64_t wait = 0;
	const char *code = wsb_allow_publish(s, type, text, sizeof text);
	/* FORBIDDEN is logged once per connection: retries must not flood the log. */
	int r = code ? (s->forbidden_said++ ? WSB_ALLOW_QUIET : WSB_ALLOW_SAY)
		     : wsb_allow_rate(s, &b->cfg.rate, b->cfg.rate_pause, b->cfg.mono_ms(), &wait, text, sizeof text);

	if (wait && b->hooks.throttle)
		b->hooks.throttle(b->hooks.ud, s->conn, wait);
	if (r != WSB_ALLOW_OK)
		wsb_brk_refuse(b, s, code ? code : "RATE_LIMITED", text, r == WSB_ALLOW_SAY);
	return r == WSB_ALLOW_OK;
}
