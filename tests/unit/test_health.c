#define T_SUITE "health"
#include "t.h"

#include <stdlib.h>

#include "health.h"

static const char healthy[] =
	"{\"status\":\"healthy\",\"active_connections\":12,\"subscribers\":3,\"uptime_s\":3600,"
	"\"messages_in\":1000,\"messages_out\":2500,\"dropped\":0,\"slow_consumers_closed\":1,"
	"\"seq\":1000,\"queued_bytes\":4096,\"publishers_paused\":false,\"version\":\"0.1.0\"}\n";

/* Parses s from an exact-size heap copy, so ASan sees any overread. */
static int parse(const char *s, struct wsb_health *h, struct wsb_err *err)
{
	size_t n = strlen(s);
	char *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, s, n);
	r = wsb_health_parse(copy, n, h, err);
	free(copy);
	return r;
}

static void probe_ok(struct wsb_health_probe *p, double total_ms)
{
	wsb_health_probe_init(p);
	p->http_state = WSB_PROBE_DONE;
	p->http_code = 200;
	p->connect_ms = 0.1;
	p->total_ms = total_ms;
}

static void test_parse_healthy(void)
{
	struct wsb_health h;
	struct wsb_err err = { 0 };

	T_CHECK(parse(healthy, &h, &err) == 0);
	T_CHECK(h.valid);
	T_STREQ(h.status, "healthy");
	T_STREQ(h.reason, "");
	T_CHECK(h.have == (1u << WSB_HF_COUNT) - 1);
	T_CHECK(h.v[WSB_HF_ACTIVE_CONNECTIONS] == 12);
	T_CHECK(h.v[WSB_HF_SUBSCRIBERS] == 3);
	T_CHECK(h.v[WSB_HF_UPTIME_S] == 3600);
	T_CHECK(h.v[WSB_HF_SLOW_CONSUMERS_CLOSED] == 1);
	T_CHECK(h.v[WSB_HF_QUEUED_BYTES] == 4096);
	/* compact, with the fields this version does not know kept */
	T_CHECK(h.compact_len == strlen(healthy) - 1);
	T_CHECK(!memcmp(h.compact, healthy, h.compact_len));
	wsb_health_free(&h);
}

static void test_parse_degraded_with_reason(void)
{
	struct wsb_health h;
	struct wsb_err err = { 0 };

	T_CHECK(parse(" { \"status\" : \"degraded\", \"reason\" : \"journal write failed\" } ", &h, &err) == 0);
	T_STREQ(h.status, "degraded");
	T_STREQ(h.reason, "journal write failed");
	T_CHECK(h.have == 0);
	wsb_health_free(&h);
}

static void test_parse_missing_and_odd_fields(void)
{
	struct wsb_health h;
	struct wsb_err err = { 0 };

	T_CHECK(parse("{\"status\":\"healthy\",\"subscribers\":\"3\",\"dropped\":-1,\"uptime_s\":12.5,"
		      "\"seq\":null}", &h, &err) == 0);
	T_CHECK(!(h.have & 1u << WSB_HF_SUBSCRIBERS));	/* a string is not a count */
	T_CHECK(!(h.have & 1u << WSB_HF_SEQ));
	T_CHECK(h.have & 1u << WSB_HF_DROPPED);
	T_CHECK(h.v[WSB_HF_DROPPED] == -1);
	T_CHECK(h.v[WSB_HF_UPTIME_S] == 12.5);
	wsb_health_free(&h);

	/* a status longer than the field is shown truncated, not refused */
	T_CHECK(parse("{\"status\":\"a-very-long-status-string-that-goes-on-and-on\"}", &h, &err) == 0);
	T_CHECK(strlen(h.status) == sizeof h.status - 1);
	wsb_health_free(&h);
}

static void test_parse_garbage(void)
{
	static const char *const bad[] = {
		"", "not json", "<html>502 Bad Gateway</html>", "[1,2]", "\"healthy\"", "{\"status\":1}",
		"{\"state\":\"healthy\"}", "{\"status\":\"healthy\"", "{\"status\":\"ok\"}}",
	};
	struct wsb_health h;
	struct wsb_err err;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.msg[0] = '\0';
		T_CHECK(parse(bad[i], &h, &err) == -1);
		T_CHECK(!h.valid);
		T_CHECK(err.msg[0] != '\0');
		wsb_health_free(&h);
	}
}

static void test_eval_ok_and_status(void)
{
	struct wsb_health h;
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;
	struct wsb_err err;

	wsb_health_limits_init(&l);
	probe_ok(&p, 2.5);
	parse(healthy, &h, &err);
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_OK && v.exit_code == 0 && v.n_reasons == 0);
	T_CHECK(v.latency_ms == 2.5);
	wsb_health_free(&h);

	parse("{\"status\":\"degraded\",\"reason\":\"journal write failed\"}", &h, &err);
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_FAIL);
	T_STREQ(v.reasons[0], "server status \"degraded\": journal write failed");
	wsb_health_free(&h);

	/* a 200 that is not ours: cannot tell */
	wsb_health_evaluate(NULL, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_UNKNOWN && v.exit_code == WSB_EXIT_FAIL);

	p.http_code = 503;
	wsb_health_evaluate(NULL, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_FAIL);
	T_STREQ(v.reasons[0], "HTTP 503");

	/* --cluster down: 503 with our body; one reason names both, and
	 * the broker answered, so 1 (not 69, which is "cannot be reached") */
	parse("{\"status\":\"unavailable\",\"reason\":\"publishes refused (UNAVAILABLE): redis away\"}", &h, &err);
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_FAIL && v.n_reasons == 1);
	T_STREQ(v.reasons[0], "server status \"unavailable\" (HTTP 503): publishes refused (UNAVAILABLE): redis away");
	wsb_health_free(&h);

	/* a 503 that says healthy is still the code's word */
	parse(healthy, &h, &err);
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_FAIL);
	T_STREQ(v.reasons[0], "HTTP 503");
	wsb_health_free(&h);
}

static void test_eval_transport(void)
{
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;

	wsb_health_limits_init(&l);
	l.crit_latency_ms = 0;
	wsb_health_probe_init(&p);
	p.http_state = WSB_PROBE_UNREACHABLE;
	snprintf(p.http_error, sizeof p.http_error, "refused");
	wsb_health_evaluate(NULL, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_UNAVAILABLE);
	T_STREQ(v.reasons[0], "unreachable: refused");
	T_CHECK(v.n_reasons == 1 && v.latency_ms < 0);	/* no latency judged without one */

	p.http_state = WSB_PROBE_TIMEOUT;
	wsb_health_evaluate(NULL, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_TEMPFAIL);
}

static void test_eval_ws(void)
{
	struct wsb_health h;
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;
	struct wsb_err err;

	wsb_health_limits_init(&l);
	parse(healthy, &h, &err);
	probe_ok(&p, 1);
	p.ws_state = WSB_PROBE_TIMEOUT;
	snprintf(p.ws_error, sizeof p.ws_error, "the canary did not come back within 5.0s");
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_TEMPFAIL);
	T_STREQ(v.reasons[0], "WebSocket timeout: the canary did not come back within 5.0s");

	/* latency is the largest time measured */
	p.ws_state = WSB_PROBE_DONE;
	p.ws_ms = 3;
	p.roundtrip_ms = 7;
	l.warn_latency_ms = 5;
	l.crit_latency_ms = 10;
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.latency_ms == 7);
	T_CHECK(v.level == WSB_HEALTH_WARNING && v.exit_code == 0);
	T_STREQ(v.reasons[0], "latency 7.0ms > 5ms (--warn-latency)");
	p.roundtrip_ms = 12;
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_CRITICAL && v.exit_code == WSB_EXIT_FAIL && v.n_reasons == 1);
	wsb_health_free(&h);
}

static void test_eval_figures(void)
{
	struct wsb_health h;
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;
	struct wsb_err err;

	parse(healthy, &h, &err);
	probe_ok(&p, 1);
	wsb_health_limits_init(&l);
	l.min_subscribers = 3;		/* 3 is enough */
	l.max_slow_consumers = 1;	/* 1 is not more than 1 */
	l.max_dropped = 0;
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_OK);

	l.min_subscribers = 4;
	l.max_slow_consumers = 0;
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_WARNING && v.exit_code == 0 && v.n_reasons == 2);
	T_STREQ(v.reasons[0], "subscribers 3 < 4 (--min-subscribers)");
	T_STREQ(v.reasons[1], "slow_consumers_closed 1 > 0 (--max-slow-consumers)");
	wsb_health_free(&h);

	/* asked about a figure the server does not report */
	parse("{\"status\":\"healthy\"}", &h, &err);
	wsb_health_evaluate(&h, &p, &l, &v);
	T_CHECK(v.level == WSB_HEALTH_UNKNOWN && v.exit_code == WSB_EXIT_FAIL);
	wsb_health_free(&h);
}

static void test_render_nagios(void)
{
	struct wsb_health h;
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;
	struct wsb_err err;
	char out[1024];
	size_t n;

	parse(healthy, &h, &err);
	probe_ok(&p, 3);
	wsb_health_limits_init(&l);
	l.warn_latency_ms = 50;
	l.crit_latency_ms = 200;
	wsb_health_evaluate(&h, &p, &l, &v);
	n = wsb_health_render_nagios(out, sizeof out, &h, &p, &l, &v);
	T_CHECK(n == strlen(out));
	T_STREQ(out, "WSBRIDGE OK - 12 connections, 3 subscribers, latency 3.0ms | latency=3.000ms;50;200 "
		     "conns=12 subscribers=3 messages_in=1000c messages_out=2500c dropped=0c "
		     "slow_consumers_closed=1c queued_bytes=4096B uptime=3600s\n");

	l.min_subscribers = 5;
	l.max_dropped = 10;
	wsb_health_evaluate(&h, &p, &l, &v);
	wsb_health_render_nagios(out, sizeof out, &h, &p, &l, &v);
	T_CHECK(!strncmp(out, "WSBRIDGE WARNING - subscribers 3 < 5 (--min-subscribers); 12 connections", 72));
	T_CHECK(strstr(out, " subscribers=3;5: ") && strstr(out, " dropped=0c;10 "));
	wsb_health_free(&h);

	/* the server's words cannot break the plugin line */
	parse("{\"status\":\"bad|state\",\"reason\":\"a\\nb\"}", &h, &err);
	wsb_health_limits_init(&l);
	wsb_health_evaluate(&h, &p, &l, &v);
	wsb_health_render_nagios(out, sizeof out, &h, &p, &l, &v);
	T_STREQ(out, "WSBRIDGE CRITICAL - server status \"bad/state\": a b; latency 3.0ms | latency=3.000ms\n");
	wsb_health_free(&h);

	wsb_health_probe_init(&p);
	p.http_state = WSB_PROBE_UNREACHABLE;
	snprintf(p.http_error, sizeof p.http_error, "Couldn't connect to server (curl 7)");
	wsb_health_evaluate(NULL, &p, &l, &v);
	wsb_health_render_nagios(out, sizeof out, NULL, &p, &l, &v);
	T_STREQ(out, "WSBRIDGE CRITICAL - unreachable: Couldn't connect to server (curl 7)\n");

	/* truncation reports the size needed, like snprintf */
	n = wsb_health_render_nagios(out, 10, NULL, &p, &l, &v);
	T_CHECK(n > 10 && strlen(out) == 9);
}

static void test_render_json(void)
{
	struct wsb_health h;
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;
	struct wsb_err err;
	char out[2048];

	parse("{\"status\":\"healthy\",\"subscribers\":0}", &h, &err);
	probe_ok(&p, 1.5);
	p.ws_ms = 0.25;
	wsb_health_limits_init(&l);
	l.min_subscribers = 1;
	wsb_health_evaluate(&h, &p, &l, &v);
	wsb_health_render_json(out, sizeof out, &h, &p, &v, "http://x/health", "2026-11-22T03:11:40.000Z");
	T_STREQ(out, "{\"status\":\"warning\",\"http_code\":200,\"server\":{\"status\":\"healthy\",\"subscribers\":0},"
		     "\"probe\":{\"connect_ms\":0.100,\"total_ms\":1.500,\"ws_connect_ms\":null,\"ws_ms\":0.250,"
		     "\"roundtrip_ms\":null,\"latency_ms\":1.500},\"reasons\":[\"subscribers 0 < 1 (--min-subscribers)\"],"
		     "\"url\":\"http://x/health\",\"timestamp\":\"2026-11-22T03:11:40.000Z\"}\n");
	wsb_health_free(&h);

	wsb_health_probe_init(&p);
	p.http_state = WSB_PROBE_TIMEOUT;
	snprintf(p.http_error, sizeof p.http_error, "said \"no\"");
	wsb_health_evaluate(NULL, &p, &l, &v);
	wsb_health_render_json(out, sizeof out, NULL, &p, &v, NULL, NULL);
	T_STREQ(out, "{\"status\":\"critical\",\"http_code\":0,\"server\":null,\"probe\":{\"connect_ms\":null,"
		     "\"total_ms\":null,\"ws_connect_ms\":null,\"ws_ms\":null,\"roundtrip_ms\":null,\"latency_ms\":null},"
		     "\"reasons\":[\"timeout: said \\\"no\\\"\"]}\n");
}

static void test_render_prometheus(void)
{
	struct wsb_health h;
	struct wsb_health_probe p;
	struct wsb_health_limits l;
	struct wsb_health_verdict v;
	struct wsb_err err;
	char out[8192];

	parse(healthy, &h, &err);
	probe_ok(&p, 2.5);
	p.roundtrip_ms = 4;
	wsb_health_limits_init(&l);
	wsb_health_evaluate(&h, &p, &l, &v);
	wsb_health_render_prometheus(out, sizeof out, &h, &p, &v, 1795317100123);
	T_CHECK(strstr(out, "# TYPE wsbridge_probe_up gauge\nwsbridge_probe_up 1\n") != NULL);
	T_CHECK(strstr(out, "\nwsbridge_probe_status{status=\"ok\"} 1\n") != NULL);
	T_CHECK(strstr(out, "\nwsbridge_probe_status{status=\"critical\"} 0\n") != NULL);
	T_CHECK(strstr(out, "\nwsbridge_probe_latency_seconds 0.004000\n") != NULL);
	T_CHECK(strstr(out, "\nwsbridge_probe_http_seconds 0.002500\n") != NULL);
	T_CHECK(strstr(out, "\nwsbridge_probe_roundtrip_seconds 0.004000\n") != NULL);
	T_CHECK(strstr(out, "wsbridge_probe_ws_seconds") == NULL);	/* not measured */
	T_CHECK(strstr(out, "\nwsbridge_probe_timestamp_seconds 1795317100.123000\n") != NULL);
	T_CHECK(strstr(out, "# TYPE wsbridge_health_messages_out_total counter\nwsbridge_health_messages_out_total 2500\n") != NULL);
	T_CHECK(strstr(out, "# TYPE wsbridge_health_subscribers gauge\nwsbridge_health_subscribers 3\n") != NULL);
	wsb_health_free(&h);

	wsb_health_probe_init(&p);
	p.http_state = WSB_PROBE_UNREACHABLE;
	wsb_health_evaluate(NULL, &p, &l, &v);
	wsb_health_render_prometheus(out, sizeof out, NULL, &p, &v, 0);
	T_CHECK(strstr(out, "\nwsbridge_probe_up 0\n") && strstr(out, "{status=\"critical\"} 1\n"));
	T_CHECK(strstr(out, "latency") == NULL && strstr(out, "wsbridge_health_") == NULL);
}

static void test_urls(void)
{
	char out[256];

	T_CHECK(wsb_health_url("http://127.0.0.1:8765", out, sizeof out) == 0);
	T_STREQ(out, "http://127.0.0.1:8765/health");
	T_CHECK(wsb_health_url("http://h:1/", out, sizeof out) == 0);
	T_STREQ(out, "http://h:1/health");
	T_CHECK(wsb_health_url("https://h/?x=1", out, sizeof out) == 0);
	T_STREQ(out, "https://h/health?x=1");
	T_CHECK(wsb_health_url("http://h:1?x=1", out, sizeof out) == 0);
	T_STREQ(out, "http://h:1/health?x=1");
	T_CHECK(wsb_health_url("http://h/wsbridge/health", out, sizeof out) == 0);
	T_STREQ(out, "http://h/wsbridge/health");
	T_CHECK(wsb_health_url("http://h/status", out, sizeof out) == 0);
	T_STREQ(out, "http://h/status");
	/* The clients' ws:// URL names the same broker: its path is the
	 * WebSocket's, and --ws uses it unless --ws-path was changed. */
	T_CHECK(wsb_health_url("ws://h:1/feed?type=a", out, sizeof out) == 0);
	T_STREQ(out, "http://h:1/health");
	T_CHECK(wsb_health_url("wss://h/ws", out, sizeof out) == 0);
	T_STREQ(out, "https://h/health");
	T_CHECK(wsb_health_ws_url("wss://h:2/feed?type=a", "/ws", out, sizeof out) == 0);
	T_STREQ(out, "wss://h:2/feed");
	T_CHECK(wsb_health_ws_url("ws://h:2/feed", "/other", out, sizeof out) == 0);
	T_STREQ(out, "ws://h:2/other");
	T_CHECK(wsb_health_ws_url("ws://h:2", "/ws", out, sizeof out) == 0);
	T_STREQ(out, "ws://h:2/ws");
	T_CHECK(wsb_health_url("ftp://h/ws", out, sizeof out) == -1);
	T_CHECK(wsb_health_url("http://", out, sizeof out) == -1);
	T_CHECK(wsb_health_url("http://h", out, 10) == -1);

	T_CHECK(wsb_health_ws_url("http://127.0.0.1:8765/health?x", "/ws", out, sizeof out) == 0);
	T_STREQ(out, "ws://127.0.0.1:8765/ws");
	T_CHECK(wsb_health_ws_url("https://[::1]:8443", "/ws/trading", out, sizeof out) == 0);
	T_STREQ(out, "wss://[::1]:8443/ws/trading");
	T_CHECK(wsb_health_ws_url("file:///etc", "/ws", out, sizeof out) == -1);
}

int main(void)
{
	T_RUN(test_parse_healthy);
	T_RUN(test_parse_degraded_with_reason);
	T_RUN(test_parse_missing_and_odd_fields);
	T_RUN(test_parse_garbage);
	T_RUN(test_eval_ok_and_status);
	T_RUN(test_eval_transport);
	T_RUN(test_eval_ws);
	T_RUN(test_eval_figures);
	T_RUN(test_render_nagios);
	T_RUN(test_render_json);
	T_RUN(test_render_prometheus);
	T_RUN(test_urls);
	return t_done();
}
