#define T_SUITE "match"
#include "t.h"

#include <stdlib.h>
#include <time.h>

#include "envelope.h"
#include "match.h"

static void test_glob_literal(void)
{
	T_CHECK(wsb_match_glob("trade", "trade"));
	T_CHECK(!wsb_match_glob("trade", "trades"));
	T_CHECK(!wsb_match_glob("trades", "trade"));
	T_CHECK(!wsb_match_glob("Trade", "trade"));
	T_CHECK(wsb_match_glob("", ""));
	T_CHECK(!wsb_match_glob("", "a"));
	T_CHECK(!wsb_match_glob("a", ""));
}

static void test_glob_star(void)
{
	T_CHECK(wsb_match_glob("*", ""));
	T_CHECK(wsb_match_glob("*", "anything.at.all"));
	T_CHECK(wsb_match_glob("**", "x"));
	T_CHECK(wsb_match_glob("trade.*", "trade."));
	T_CHECK(wsb_match_glob("trade.*", "trade.btc"));
	T_CHECK(!wsb_match_glob("trade.*", "trade"));
	T_CHECK(!wsb_match_glob("trade.*", "quote.btc"));
	T_CHECK(wsb_match_glob("*.btc", "trade.btc"));
	T_CHECK(!wsb_match_glob("*.btc", "trade.btcx"));
	T_CHECK(wsb_match_glob("a*b*c", "abc"));
	T_CHECK(wsb_match_glob("a*b*c", "aXXbYYc"));
	T_CHECK(wsb_match_glob("a*b*c", "abcbc"));
	T_CHECK(!wsb_match_glob("a*b*c", "abcb"));
	T_CHECK(wsb_match_glob("*a", "aaaa"));
	T_CHECK(wsb_match_glob("a*a", "aa"));
	T_CHECK(!wsb_match_glob("a*a", "a"));
	T_CHECK(wsb_match_glob("*ab*ab", "xabyabab"));
	T_CHECK(wsb_match_glob("***a***", "bab"));
}

static void test_glob_question(void)
{
	T_CHECK(wsb_match_glob("?", "a"));
	T_CHECK(!wsb_match_glob("?", ""));
	T_CHECK(!wsb_match_glob("?", "ab"));
	T_CHECK(wsb_match_glob("t?pe", "type"));
	T_CHECK(wsb_match_glob("*?", "a"));
	T_CHECK(!wsb_match_glob("*?", ""));
	T_CHECK(wsb_match_glob("?*?", "ab"));
	T_CHECK(!wsb_match_glob("?*?", "a"));
	T_CHECK(wsb_match_glob("a?c*", "abcdef"));
	/* '?' is one byte, so a two-byte UTF-8 character needs two. */
	T_CHECK(!wsb_match_glob("?", "\xc3\xa9"));
	T_CHECK(wsb_match_glob("??", "\xc3\xa9"));
	T_CHECK(wsb_match_glob("caf\xc3\xa9.*", "caf\xc3\xa9.x"));
}

/* A naive backtracking matcher would take exponential time here. */
static void test_glob_pathological(void)
{
	char s[4097];
	char pat[64];
	clock_t t0 = clock();
	double secs;

	memset(s, 'a', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	strcpy(pat, "a*a*a*a*a*a*a*a*a*a*a*a*b");
	T_CHECK(!wsb_match_glob(pat, s));
	strcpy(pat, "*a*a*a*a*a*a*a*a*a*a*a*a*");
	T_CHECK(wsb_match_glob(pat, s));
	s[sizeof s - 2] = 'b';
	strcpy(pat, "a*a*a*a*a*a*a*a*a*a*a*a*b");
	T_CHECK(wsb_match_glob(pat, s));
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	T_CHECK(secs < 1.0);
}

/* Cross-check against a simple recursive reference on small random inputs. */
static int ref_glob(const char *p, const char *s)
{
	if (!*p)
		return !*s;
	if (*p == '*')
		return ref_glob(p + 1, s) || (*s && ref_glob(p, s + 1));
	if (*s && (*p == '?' || *p == *s))
		return ref_glob(p + 1, s + 1);
	return 0;
}

static void test_glob_random(void)
{
	static const char pa[] = "ab*?";
	static const char sa[] = "ab";
	char p[8], s[10];
	unsigned seed = 12345;
	int i, j, np, ns, bad = 0;

	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		np = (int)(seed >> 16) % 8;
		for (j = 0; j < np; j++) {
			seed = seed * 1103515245u + 12345u;
			p[j] = pa[(seed >> 16) % 4];
		}
		p[np] = '\0';
		seed = seed * 1103515245u + 12345u;
		ns = (int)(seed >> 16) % 10;
		for (j = 0; j < ns; j++) {
			seed = seed * 1103515245u + 12345u;
			s[j] = sa[(seed >> 16) % 2];
		}
		s[ns] = '\0';
		if (wsb_match_glob(p, s) != ref_glob(p, s)) {
			if (bad++ < 5)
				printf("  mismatch: pattern \"%s\" on \"%s\"\n", p, s);
		}
	}
	T_CHECK(bad == 0);
}

static void test_pattern_ok(void)
{
	struct wsb_err err;
	char big[WSB_TYPE_MAX + 2];

	T_CHECK(wsb_match_pattern_ok("trade.*", &err));
	T_CHECK(wsb_match_pattern_ok("*", &err));
	T_CHECK(wsb_match_pattern_ok("caf\xc3\xa9", &err));
	T_CHECK(wsb_match_pattern_ok("has space", NULL));

	memset(big, 'x', WSB_TYPE_MAX);
	big[WSB_TYPE_MAX] = '\0';
	T_CHECK(wsb_match_pattern_ok(big, &err));
	big[WSB_TYPE_MAX] = 'y';
	big[WSB_TYPE_MAX + 1] = '\0';
	wsb_err_clear(&err);
	T_CHECK(!wsb_match_pattern_ok(big, &err));
	T_CHECK(err.code == WSB_EXIT_USAGE);
	T_CHECK(strstr(err.msg, "xxxxxxxx") != NULL);
	T_CHECK(strstr(err.msg, "129") != NULL);

	wsb_err_clear(&err);
	T_CHECK(!wsb_match_pattern_ok("", &err));
	T_CHECK(err.msg[0] != '\0');

	wsb_err_clear(&err);
	T_CHECK(!wsb_match_pattern_ok("bad\ttype", &err));
	T_CHECK(strstr(err.msg, "bad\\x09type") != NULL);
	T_CHECK(strchr(err.msg, '\t') == NULL);
	T_CHECK(!wsb_match_pattern_ok("del\x7f", NULL));
	T_CHECK(!wsb_match_pattern_ok("nl\n", NULL));
}

static void test_patterns_new_is_all(void)
{
	struct wsb_patterns p;

	wsb_patterns_init(&p);
	T_CHECK(wsb_patterns_match(&p, "anything"));
	T_CHECK(wsb_patterns_match(&p, "wsbridge.x"));
	T_CHECK(p.n == 0);
	wsb_patterns_free(&p);
}

static void test_patterns_add_remove(void)
{
	struct wsb_patterns p;

	wsb_patterns_init(&p);
	T_CHECK(wsb_patterns_add(&p, "trade.*") == 1);
	T_CHECK(!p.all);
	T_CHECK(wsb_patterns_match(&p, "trade.btc"));
	T_CHECK(!wsb_patterns_match(&p, "quote.btc"));
	T_CHECK(wsb_patterns_add(&p, "trade.*") == 0);	/* deduplicated */
	T_CHECK(p.n == 1);
	T_CHECK(wsb_patterns_add(&p, "quote.?tc") == 1);
	T_CHECK(wsb_patterns_match(&p, "quote.btc"));
	T_CHECK(p.n == 2);

	T_CHECK(wsb_patterns_remove(&p, "nope") == 0);
	T_CHECK(wsb_patterns_remove(&p, "trade.*") == 1);
	T_CHECK(wsb_patterns_remove(&p, "trade.*") == 0);
	T_CHECK(!wsb_patterns_match(&p, "trade.btc"));
	T_CHECK(wsb_patterns_match(&p, "quote.btc"));

	/* Removing the last one leaves a set that matches nothing. */
	T_CHECK(wsb_patterns_remove(&p, "quote.?tc") == 1);
	T_CHECK(p.n == 0);
	T_CHECK(!wsb_patterns_match(&p, "quote.btc"));
	T_CHECK(!wsb_patterns_match(&p, "x"));
	T_CHECK(wsb_patterns_add(&p, "x") == 1);
	T_CHECK(wsb_patterns_match(&p, "x"));
	wsb_patterns_free(&p);
}

static void test_patterns_star_is_normal(void)
{
	struct wsb_patterns p;

	wsb_patterns_init(&p);
	T_CHECK(wsb_patterns_add(&p, "*") == 1);
	T_CHECK(!p.all);
	T_CHECK(p.n == 1);
	T_CHECK(wsb_patterns_match(&p, "anything"));
	T_CHECK(wsb_patterns_add(&p, "*") == 0);
	T_CHECK(wsb_patterns_remove(&p, "*") == 1);
	T_CHECK(!wsb_patterns_match(&p, "anything"));
	wsb_patterns_free(&p);
}

static void test_patterns_many(void)
{
	struct wsb_patterns p;
	char name[32];
	int i, ok = 1;

	wsb_patterns_init(&p);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "t%d.*", i);
		if (wsb_patterns_add(&p, name) != 1)
			ok = 0;
	}
	T_CHECK(ok);
	T_CHECK(p.n == 100);
	T_CHECK(wsb_patterns_match(&p, "t99.x"));
	T_CHECK(wsb_patterns_match(&p, "t0.x"));
	T_CHECK(!wsb_patterns_match(&p, "t100.x"));
	for (i = 0; i < 100; i += 2) {
		snprintf(name, sizeof name, "t%d.*", i);
		if (wsb_patterns_remove(&p, name) != 1)
			ok = 0;
	}
	T_CHECK(ok);
	T_CHECK(p.n == 50);
	T_CHECK(!wsb_patterns_match(&p, "t98.x"));
	T_CHECK(wsb_patterns_match(&p, "t97.x"));
	wsb_patterns_free(&p);
	T_CHECK(p.v == NULL && p.n == 0);
}

int main(void)
{
	T_RUN(test_glob_literal);
	T_RUN(test_glob_star);
	T_RUN(test_glob_question);
	T_RUN(test_glob_pathological);
	T_RUN(test_glob_random);
	T_RUN(test_pattern_ok);
	T_RUN(test_patterns_new_is_all);
	T_RUN(test_patterns_add_remove);
	T_RUN(test_patterns_star_is_normal);
	T_RUN(test_patterns_many);
	return t_done();
}
