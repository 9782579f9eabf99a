#include "envbuf.h"

ssize_t wsb_envbuf_parse(struct wsb_buf *scratch, const char *msg, size_t len, struct wsb_env *env,
			 struct wsb_err *err)
{
	struct wsb_err e;
	ssize_t n;

	wsb_buf_reset(scratch);
	/* At least one byte, so p is never NULL for an empty message. */
	if (wsb_buf_reserve(scratch, len ? len : 1, &e)) {
		wsb_err_set(err, e.code, "cannot hold a %zu-byte message: %s", len, e.msg);
		return WSB_ENVBUF_NOROOM;
	}
	n = wsb_env_parse(msg, len, scratch->p, NULL, env, err);
	if (n < 0)
		return WSB_ENVBUF_INVALID;
	scratch->len = (size_t)n;
	return n;
}
