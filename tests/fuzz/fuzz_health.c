/* fuzz_health — wsb_health_parse on a /health body from a possibly hostile
 * or broken server, then the verdict and all three renderers, as
 * wsbridge-health does with it. Invariants: a refused body leaves
 * h.valid 0 with a message; an accepted one has a NUL-terminated status and
 * a compact copy no longer than the body; every renderer's output is
 * NUL-terminated within its buffer and says how long the whole text is. */
#include "fuzz.h"

#include "health.h"

static void render(const struct wsb_health *h)
{
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;
	char out[1024];
	size_t n;

	wsb_health_probe_init(&p);
	wsb_health_limits_init(&l);
	p.http_state = WSB_PROBE_DONE;
	p.http_code = 200;
	p.total_ms = 1.5;
	l.min_subscribers = 1;
	l.max_dropped = 0;
	wsb_health_evaluate(h, &p, &l, &v);
	FUZZ_CHECK(v.level >= WSB_HEALTH_OK && v.level <= WSB_HEALTH_UNKNOWN);
	FUZZ_CHECK(v.n_reasons >= 0 && v.n_reasons <= WSB_HEALTH_REASONS);
	n = wsb_health_render_json(out, sizeof out, h, &p, &v, "http://127.0.0.1:1", "2026-11-22T03:11:40.123Z");
	FUZZ_CHECK(strlen(out) == (n < sizeof out ? n : sizeof out - 1));
	n = wsb_health_render_nagios(out, sizeof out, h, &p, &l, &v);
	FUZZ_CHECK(strlen(out) == (n < sizeof out ? n : sizeof out - 1));
	n = wsb_health_render_prometheus(out, sizeof out, h, &p, &v, 1795317100123LL);
	FUZZ_CHECK(strlen(out) == (n < sizeof out ? n : sizeof out - 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_dup(data, size);
	struct wsb_health h;
	struct wsb_err err;
	int rc;

	memset(&err, 0, sizeof err);
	rc = wsb_health_parse(body, size, &h, &err);
	if (rc < 0) {
		FUZZ_CHECK(!h.valid && err.msg[0]);
		render(NULL);
	} else {
		FUZZ_CHECK(rc == 0 && h.valid);
		FUZZ_CHECK(memchr(h.status, 0, sizeof h.status) && memchr(h.reason, 0, sizeof h.reason));
		FUZZ_CHECK(h.compact_len <= size);
		render(&h);
	}
	wsb_health_free(&h);
	free(body);
	return 0;
}
