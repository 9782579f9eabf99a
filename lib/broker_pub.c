/* broker_pub — publishing without a session (broker.h,
 * wsb_broker_publish): POST /publish and serve --stdin, through the same
 * checks, stamp and fan-out as a connection's message; and the one
 * deflater of --compress (pmd.h). */
#include "broker_int.h"

#include "envelope.h"
#include "msg.h"
#include "pmd.h"
#include "reply.h"

/* What publishing msg as nobody's would refuse: 0, or -1 with code and err. */
static int check_plain(const struct wsb_broker *b, ssize_t r, const struct wsb_env *env, const char *p,
		       const struct wsb_scope *scope, const char **code, struct wsb_err *err)
{
	*code = "INVALID_MESSAGE";
	if (r == -WSB_ENV_INVALID_JSON)
		*code = "INVALID_JSON";
	if (r < 0)
		return -1;
	if (!env->has_type)
		return wsb_err_set(err, WSB_EXIT_DATAERR, "%s",
				   env->type_v.len && p[env->type_v.off] == '"' ? "message \"type\" must be 1 to 128 bytes"
									     : "message has no string \"type\"");
	if (!wsb_env_type_ok(env->type, env->type_len, err))
		return -1;	/* control types too: ping or subscribe mean nothing here */
	if (scope && !wsb_scope_may_publish(scope, env->type)) {
		*code = "FORBIDDEN";
		return wsb_err_set(err, WSB_EXIT_NOPERM, "type \"%s\" is outside this token's scope", env->type);
	}
	if (b->st.seq == UINT64_MAX) {
		*code = "SEQ_EXHAUSTED";
		return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "the server's seq space is exhausted");
	}
	/* A cluster's sequencer answers later, for a session: nobody's
	 * message would have nowhere to hear its seq. */
	if (b->seq.submit) {
		*code = "UNAVAILABLE";
		return wsb_err_set(err, WSB_EXIT_UNAVAILABLE, "not in cluster mode: publish over the WebSocket");
	}
	return 0;
}

uint64_t wsb_broker_publish(struct wsb_broker *b, const char *msg, size_t len, const struct wsb_scope *scope,
			    int check_only, const char **code, struct wsb_err *err)
{
	static const char *const drop[] = { "seq", "producer", "pseq", NULL };
	struct wsb_env env;
	size_t cap = len + WSB_STAMP_MAX;
	struct wsb_msg *m;
	ssize_t r;
	uint64_t seq;

	*code = "INTERNAL";
	if (cap < len || !(m = wsb_msg_alloc(cap)))
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory"), 0;
	wsb_err_clear(err);
	r = wsb_env_parse(msg, len, wsb_msg_payload(m), drop, &env, err);
	if (check_plain(b, r, &env, wsb_msg_payload(m), scope, code, err) || check_only) {
		wsb_msg_unref(m);
		return check_only && !err->msg[0];
	}
	wsb_brk_publish(b, NULL, m, &env, (size_t)r, cap);
	seq = b->st.seq;
	wsb_sessions_flush(&b->ss);
	wsb_brk_check_pressure(b);
	return seq;
}


/* Without a deflater (out of memory) the session gets plain frames, which a
 * permessage-deflate peer reads as well. */
void wsb_brk_compress(struct wsb_broker *b, struct wsb_sess *s, int on)
{
	if (on && !b->zd)
		b->zd = wsb_deflate_new();
	s->compress = on && b->zd;
}
