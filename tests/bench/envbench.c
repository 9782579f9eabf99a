/* envbench — a micro benchmark of the envelope scanner on the message
 * shapes of the systems wsbridge replaces (docs/performance.md).
 *
 *   envbench [--messages N] [--ref]
 *
 * Each message goes through the three parses the pipeline makes: pub's
 * (dropping "producer"/"pseq"), the broker's (dropping "seq"/"producer"/
 * "pseq", then the lookups a producer's message gets) and the subscriber's
 * (the broker's output, stamped with "timestamp" and "seq"). The shapes are
 * the thirteen of docs/protocol's predecessors, the 200-byte line of make
 * bench, and two in Python's json.dumps spacing; the messages cycle
 * through them. --ref runs the byte-at-a-time reference scanner
 * (lib/envelope_ref.h) instead, for a before/after in one binary.
 * Prints messages, parses, ns per parse and a checksum of every output
 * (equal for both scanners). Run it under valgrind --tool=callgrind for a
 * repeatable instruction count: time on a shared machine is not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "envelope_ref.h"

static const char *const shapes[] = {
	"{\"type\":\"tick\",\"timestamp\":\"2024-01-01T12:00:00.000Z\",\"data\":{\"symbol\":\"EURUSD\",\"bid\":1.08500,\"ask\":1.08503,\"spread\":0.00003}}",
	"{\"type\":\"signal\",\"timestamp\":\"2024-01-01T12:00:00.000Z\",\"data\":{\"symbol\":\"EURUSD\",\"side\":\"buy\",\"strength\":0.85,\"confidence\":87.5,\"model\":\"LSTM\"}}",
	"{\"type\":\"order_update\",\"timestamp\":\"2024-01-01T12:00:00.000Z\",\"data\":{\"order_id\":\"ORD_1704110400_1234\",\"symbol\":\"EURUSD\",\"side\":\"buy\",\"status\":\"filled\",\"volume\":0.1,\"price\":1.08500}}",
	"{\"type\":\"order\",\"data\":{\"id\":\"abc123\",\"symbol\":\"AAPL\",\"side\":\"buy\",\"qty\":100,\"status\":\"filled\",\"filled_at\":\"2025-01-01T12:00:00Z\"}}",
	"{\"type\":\"update\",\"data\":{\"symbol\":\"AAPL\",\"price\":150.25,\"volume\":1000000,\"change\":2.5,\"changePercent\":1.69}}",
	"{\"type\":\"market_data\",\"data\":{\"symbol\":\"BTC-USD\",\"price\":45000.0,\"timestamp\":\"2024-01-20T10:30:00Z\"}}",
	"{\"type\":\"ai_decision\",\"data\":{\"action\":\"BUY\",\"reasoning\":\"Strong bullish signals detected\",\"confidence\":0.85,\"timestamp\":\"2024-01-20T10:30:00Z\"}}",
	"{\"type\":\"trading_decision\",\"data\":{\"request_id\":\"abc123\",\"action\":\"BUY\",\"confidence\":0.85,\"price\":45000.0,\"quantity\":0.1,\"leverage\":5,\"indicators\":{\"rsi\":45.2,\"wavetrend\":\"bullish\",\"ema_trend\":\"up\"},\"risk_analysis\":{\"stop_loss\":44000.0,\"take_profit\":46000.0,\"risk_reward_ratio\":2.0},\"timestamp\":\"2024-01-20T10:30:00Z\"}}",
	"{\"type\":\"system_status\",\"data\":{\"status\":\"healthy\",\"health\":true,\"errors\":[],\"timestamp\":\"2024-01-20T10:30:00Z\"}}",
	"{\"type\":\"position_update\",\"timestamp\":\"2024-01-15T10:30:00.000Z\",\"data\":{\"position_id\":\"uuid-here\",\"symbol\":\"BTC/USDT\",\"status\":\"open\",\"spot_entry_price\":\"45000.00\",\"perp_entry_price\":\"45010.00\",\"spot_quantity\":\"0.1\",\"perp_quantity\":\"0.1\",\"unrealized_pnl\":\"50.25\",\"funding_collected\":\"12.50\"}}",
	"{\"type\":\"equity_update\",\"timestamp\":\"2024-01-15T10:30:00.000Z\",\"data\":{\"total_equity\":\"10000.00\",\"peak_equity\":\"10500.00\",\"current_equity\":\"10000.00\"}}",
	"{\"type\":\"risk_status_update\",\"timestamp\":\"2024-01-15T10:30:00.000Z\",\"data\":{\"status\":\"soft_pause\",\"message\":\"New position openings stopped. Existing positions remain open.\",\"drawdown_pct\":\"0.04\",\"daily_loss_pct\":\"0.03\"}}",
	"{\"type\":\"system_log\",\"timestamp\":\"2024-01-15T10:30:00.000Z\",\"data\":{\"level\":\"INFO\",\"module\":\"PositionService\",\"message\":\"Position opened successfully\",\"timestamp\":\"2024-01-15T10:30:00.000Z\"}}",
	/* make bench's line (tests/bench/bench.sh) */
	"{\"type\":\"tick\",\"data\":{\"symbol\":\"EURUSD\",\"bid\":1.37454,\"ask\":1.37474,\"n\":12345,\"venue\":\"LMAX\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}",
	/* Python's json.dumps default separators */
	"{\"type\": \"tick\", \"timestamp\": \"2024-01-01T12:00:00.000Z\", \"data\": {\"symbol\": \"EURUSD\", \"bid\": 1.085, \"ask\": 1.08503, \"spread\": 3e-05}}",
	"{\"type\": \"system_log\", \"timestamp\": \"2024-01-15T10:30:00.000Z\", \"data\": {\"level\": \"INFO\", \"module\": \"PositionService\", \"message\": \"Position opened successfully \\u2014 id \\\"42\\\"\", \"timestamp\": \"2024-01-15T10:30:00.000Z\"}}",
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

typedef ssize_t (*parse_fn)(const char *, size_t, char *, const char *const *, struct wsb_env *,
			    struct wsb_err *);
typedef int (*lookup_fn)(const char *, size_t, const char *, struct wsb_span *);

/* FNV-1a over 8-byte words: a checksum cheap next to a parse. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	w = 0;
	memcpy(&w, s, n);
	return (h ^ w) * 0x100000001b3ULL;
}

/* What a parse returns: its value and env's members (not the whole struct,
 * whose unused type bytes would cost more to hash than the parse). */
static uint64_t fnv_env(uint64_t h, ssize_t n, const struct wsb_env *e)
{
	h = fnv(h, &n, sizeof n);
	h = fnv(h, e->type, e->type_len);
	h = fnv(h, &e->seq, sizeof e->seq);
	h = fnv(h, &e->type_v, sizeof e->type_v);
	h = fnv(h, &e->data, sizeof e->data);
	h = fnv(h, &e->timestamp, sizeof e->timestamp);
	return fnv(h, &e->seq_v, sizeof e->seq_v);
}

/* The subscriber's input: the broker's output with its stamp, as publish
 * splices it before the closing brace (a "timestamp" if there is none, then
 * "seq"). */
static size_t stamp(char *out, const char *obj, size_t n, const struct wsb_env *env, uint64_t seq)
{
	int k = snprintf(out + n - 1, 96, "%s,\"seq\":%llu}",
			 env->timestamp.len ? "" : ",\"timestamp\":\"2026-11-22T03:11:40.123Z\"",
			 (unsigned long long)seq);

	memcpy(out, obj, n - 1);
	return n - 1 + (size_t)k;
}

static uint64_t one(parse_fn parse, lookup_fn lookup, const char *msg, uint64_t seq, uint64_t h)
{
	static const char *const drop_pub[] = { "producer", "pseq", NULL };
	static const char *const drop_srv[] = { "seq", "producer", "pseq", NULL };
	static char a[2048], b[2048], c[2048], d[2048];
	size_t len = strlen(msg);
	struct wsb_env env;
	struct wsb_span v;
	ssize_t n;

	n = parse(msg, len, a, drop_pub, &env, NULL);
	h = fnv_env(h, n, &env);
	n = parse(a, (size_t)n, b, drop_srv, &env, NULL);
	h = fnv_env(h, n, &env);
	h += (uint64_t)lookup(b, (size_t)n, "pseq", &v) + (uint64_t)lookup(b, (size_t)n, "producer", &v);
	n = (ssize_t)stamp(c, b, (size_t)n, &env, seq);
	n = parse(c, (size_t)n, d, NULL, &env, NULL);
	h = fnv_env(h, n, &env);
	return fnv(h, d, n > 0 ? (size_t)n : 0);
}

int main(int argc, char **argv)
{
	long messages = 1000000;
	int ref = 0;
	parse_fn parse;
	lookup_fn lookup;
	struct timespec t0, t1;
	uint64_t h = 0xcbf29ce484222325ULL;
	double ns;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ref"))
			ref = 1;
		else if (!strcmp(argv[i], "--messages") && i + 1 < argc)
			messages = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: envbench [--messages N] [--ref]\n");
			return 64;
		}
	}
	parse = ref ? wsb_env_parse_ref : wsb_env_parse;
	lookup = ref ? wsb_env_lookup_ref : wsb_env_lookup;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < messages; i++)
		h = one(parse, lookup, shapes[(size_t)i % NSHAPES], (uint64_t)i + 1, h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("scanner=%s messages=%ld parses=%ld ns_per_parse=%.1f checksum=%016llx\n",
	       ref ? "ref" : "fast", messages, messages * 3, ns / (double)(messages * 3),
	       (unsigned long long)h);
	return 0;
}
