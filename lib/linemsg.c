#include "linemsg.h"

#include <stdio.h>
#include <string.h>

#include "envelope.h"

void wsb_linemsg_init(struct wsb_linemsg *lm, const char *type)
{
	size_t n;

	memset(lm, 0, sizeof *lm);
	if (!type)
		return;
	lm->has_type = 1;
	memcpy(lm->member, "\"type\":", 7);
	n = 7 + wsb_json_escape(lm->member + 7, sizeof lm->member - 8, type, strlen(type));
	lm->member[n] = ',';
	lm->member[n + 1] = '\0';
}

size_t wsb_linemsg_cap(const struct wsb_linemsg *lm, size_t len)
{
	/* --raw escapes each byte into at most 6 */
	return len * 6 + sizeof lm->member + 16;
}

/* {"data":"<line>"} with the type in front. */
static ssize_t make_raw(const struct wsb_linemsg *lm, const char *line, size_t len, char *out, size_t cap)
{
	size_t need = wsb_json_escape(NULL, 0, line, len);
	int n = snprintf(out, cap, "{%s\"data\":", lm->member);

	wsb_json_escape(out + n, cap - (size_t)n, line, len);
	n += (int)need;
	out[n++] = '}';
	return n;
}

ssize_t wsb_linemsg_make(const struct wsb_linemsg *lm, const char *line, size_t len, int raw, char *out,
			 size_t cap, struct wsb_err *err)
{
	static const char *const drop[] = { "producer", "pseq", NULL };
	struct wsb_env env;
	size_t tl = strlen(lm->member);
	char *body = out + tl;	/* room in front to splice "type":"T", */
	ssize_t n;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	if (raw)		/* without a type, {"data":...}: --type-from adds it */
		return make_raw(lm, line, len, out, cap);
	n = wsb_env_parse(line, len, body, drop, &env, err);
	if (n < 0)
		return -1;
	if (!env.has_type && !lm->has_type)
		return wsb_err_set(err, WSB_EXIT_DATAERR, "no string \"type\" (give one with --type)");
	if (env.has_type && !wsb_env_type_ok(env.type, env.type_len, err))
		return -1;
	if (env.has_type) {
		memmove(out, body, (size_t)n);
		return n;
	}
	/* body is "{...}": becomes {"type":"T",...} or {"type":"T"} */
	out[0] = '{';
	memcpy(out + 1, lm->member, tl);
	if (n == 2) {
		out[tl] = '}';	/* overwrite the trailing ',' */
		return (ssize_t)tl + 1;
	}
	/* body[0] was '{' and sits at out[tl]; the member ends in ',' at tl. */
	memmove(out + 1 + tl, body + 1, (size_t)n - 1);
	return (ssize_t)(tl + (size_t)n);
}
