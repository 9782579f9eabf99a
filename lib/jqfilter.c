#include <jq.h>
#include <jv.h>

#include "jqfilter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wsb_jqf {
	jq_state *jq;
	char cb_msg[WSB_ERR_LEN];	/* first message libjq reported through the callback */
	jv held;			/* keeps out->str alive until the next run */
};

/* libjq hands the callback ownership of msg (execute.c default_err_cb). A
 * compile error arrives as the real message and then "jq: 1 compile error";
 * only the first is worth showing. */
static void err_cb(void *ud, jv msg)
{
	struct wsb_jqf *f = ud;

	if (!f->cb_msg[0]) {
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			const char *s = jv_string_value(msg);

			if (!strncmp(s, "jq: error: ", 11))
				s += 11;
			snprintf(f->cb_msg, sizeof f->cb_msg, "%s", s);
			/* jq quotes the program on a second line; errors here are one line. */
			for (char *p = f->cb_msg; *p; p++)
				if (*p == '\n' || *p == '\t')
					*p = ' ';
			for (size_t n = strlen(f->cb_msg); n && f->cb_msg[n - 1] == ' ';)
				f->cb_msg[--n] = '\0';
		} else {
			jv d = jv_dump_string(jv_copy(msg), 0);

			snprintf(f->cb_msg, sizeof f->cb_msg, "%s", jv_string_value(d));
			jv_free(d);
		}
	}
	jv_free(msg);
}

struct wsb_jqf *wsb_jqf_compile(const char *prog, struct wsb_err *err)
{
	struct wsb_jqf *f = calloc(1, sizeof *f);

	if (!f || !(f->jq = jq_init())) {
		free(f);
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	f->held = jv_null();
	jq_set_error_cb(f->jq, err_cb, f);
	/* Always an object: Debian's jq 1.6 double-frees an array here. */
	if (!jq_compile_args(f->jq, prog, jv_object())) {
		wsb_err_set(err, WSB_EXIT_USAGE, "jq program '%s': %s", prog,
			    f->cb_msg[0] ? f->cb_msg : "does not compile");
		wsb_jqf_free(f);
		return NULL;
	}
	f->cb_msg[0] = '\0';
	return f;
}

void wsb_jqf_free(struct wsb_jqf *f)
{
	if (!f)
		return;
	jv_free(f->held);
	jq_teardown(&f->jq);
	free(f);
}

/* Sets err from an invalid r (consumed); 0 if r carried no message. */
static int invalid(jv r, const char *what, struct wsb_err *err)
{
	jv msg;

	if (!jv_invalid_has_msg(jv_copy(r))) {
		jv_free(r);
		return 0;
	}
	msg = jv_invalid_get_msg(r);
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		wsb_err_set(err, WSB_EXIT_DATAERR, "%s: %s", what, jv_string_value(msg));
	} else {
		jv d = jv_dump_string(msg, 0);

		/* error({"code":1}) raises a non-string; show it as JSON. */
		wsb_err_set(err, WSB_EXIT_DATAERR, "%s: %s", what, jv_string_value(d));
		msg = d;
	}
	jv_free(msg);
	return -1;
}

int wsb_jqf_run(struct wsb_jqf *f, const char *json, size_t len, struct wsb_jqf_out *out,
		struct wsb_err *err)
{
	jv in, r;

	if (len > (size_t)INT32_MAX)
		return wsb_err_set(err, WSB_EXIT_DATAERR, "input too large for jq");
	jv_free(f->held);
	f->held = jv_null();
	in = jv_parse_sized(json, (int)len);
	if (!jv_is_valid(in))
		return invalid(in, "invalid JSON", err) ? -1 : 0;
	jq_start(f->jq, in, 0);
	r = jq_next(f->jq);
	if (!jv_is_valid(r))
		return invalid(r, "jq", err);
	memset(out, 0, sizeof *out);
	switch (jv_get_kind(r)) {
	case JV_KIND_NULL: out->kind = WSB_JQF_NULL; break;
	case JV_KIND_FALSE: out->kind = WSB_JQF_FALSE; break;
	case JV_KIND_TRUE: out->kind = WSB_JQF_TRUE; break;
	case JV_KIND_NUMBER:
		out->kind = WSB_JQF_NUMBER;
		out->num = jv_number_value(r);
		break;
	case JV_KIND_STRING:
		out->kind = WSB_JQF_STRING;
		f->held = r;
		out->str = jv_string_value(r);
		out->len = (size_t)jv_string_length_bytes(jv_copy(r));
		return 1;
	default:
		out->kind = WSB_JQF_OTHER;
		break;
	}
	/* Every kind gets its JSON text, so callers can show or splice it. */
	f->held = jv_dump_string(r, 0);
	out->str = jv_string_value(f->held);
	out->len = strlen(out->str);
	return 1;
}

int wsb_jqf_truthy(struct wsb_jqf *f, const char *json, size_t len, struct wsb_err *err)
{
	struct wsb_jqf_out o;
	int r = wsb_jqf_run(f, json, len, &o, err);

	if (r <= 0)
		return r;
	return o.kind != WSB_JQF_NULL && o.kind != WSB_JQF_FALSE;
}
