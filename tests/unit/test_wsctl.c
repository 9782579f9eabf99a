#define T_SUITE "wsctl"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "frame.h"
#include "wsctl.h"

struct got {
	int ops[8];
	char payload[8][128];
	size_t len[8];
	int n, stop_on_close;
};

static int on_frame(void *ud, int op, const unsigned char *p, size_t len)
{
	struct got *g = ud;

	if (g->n < 8) {
		g->ops[g->n] = op;
		memcpy(g->payload[g->n], p, len);
		g->len[g->n] = len;
	}
	g->n++;
	return g->stop_on_close && op == WSB_OP_CLOSE;
}

/* A client control frame (masked) with first byte b0 and second byte's
 * length bits len7 (the payload has len bytes). */
static size_t put(unsigned char *s, int b0, int len7, const char *p, size_t len)
{
	static const unsigned char key[4] = { 0xa1, 0x02, 0x7f, 0x30 };

	s[0] = (unsigned char)b0;
	s[1] = (unsigned char)(0x80 | len7);
	memcpy(s + 2, key, 4);
	memcpy(s + 6, p, len);
	wsb_frame_mask(s + 6, len, key);
	return 6 + len;
}

static void test_one_frame(void)
{
	struct wsb_wsctl c = { 0 };
	struct got g = { 0 };
	unsigned char s[64];
	const char *why = NULL;
	size_t n = put(s, 0x89, 5, "hello", 5);

	T_CHECK(wsb_wsctl_feed(&c, s, n, on_frame, &g, &why) == 0);
	T_CHECK(g.n == 1 && g.ops[0] == WSB_WSCTL_PING && g.len[0] == 5 && !memcmp(g.payload[0], "hello", 5));
	T_CHECK(c.part == NULL);
}

/* Three frames cut at every pair of points: the same three, whole and
 * unmasked, and no buffer left once the last is whole. */
static void test_every_split(void)
{
	unsigned char s[512], w[512];
	size_t n = 0, i, j;
	char big[125];

	memset(big, 'x', sizeof big);
	n += put(s + n, 0x89, 0, "", 0);
	n += put(s + n, 0x8a, 125, big, 125);
	n += put(s + n, 0x88, 4, "\x03\xe8ok", 4);
	for (i = 0; i <= n; i++)
		for (j = i; j <= n; j += 7) {
			struct wsb_wsctl c = { 0 };
			struct got g = { 0 };
			const char *why = NULL;
			int rc;

			memcpy(w, s, n);
			rc = wsb_wsctl_feed(&c, w, i, on_frame, &g, &why);
			rc |= wsb_wsctl_feed(&c, w + i, j - i, on_frame, &g, &why);
			rc |= wsb_wsctl_feed(&c, w + j, n - j, on_frame, &g, &why);
			T_CHECK(rc == 0 && g.n == 3);
			T_CHECK(g.ops[0] == WSB_WSCTL_PING && g.len[0] == 0);
			T_CHECK(g.ops[1] == WSB_WSCTL_PONG && g.len[1] == 125 && !memcmp(g.payload[1], big, 125));
			T_CHECK(g.ops[2] == WSB_OP_CLOSE && g.len[2] == 4 && !memcmp(g.payload[2], "\x03\xe8ok", 4));
			T_CHECK(c.part == NULL);
			wsb_wsctl_free(&c);
		}
}

static int rule_code(int b0, int len7, int masked, size_t split)
{
	struct wsb_wsctl c = { 0 };
	struct got g = { 0 };
	unsigned char s[300];
	const char *why = NULL;
	size_t n = put(s, b0, len7, "abc", 3);
	int rc;

	if (!masked)
		s[1] &= 0x7f;
	n += put(s + n, 0x89, 1, "z", 1);	/* never looked at after a broken one */
	rc = wsb_wsctl_feed(&c, s, split, on_frame, &g, &why);
	if (!rc)
		rc = wsb_wsctl_feed(&c, s + split, n - split, on_frame, &g, &why);
	T_CHECK(g.n == 0 && (rc == 0 || why != NULL));
	T_CHECK(c.part == NULL);
	return rc;
}

static void test_rules(void)
{
	for (size_t split = 0; split < 3; split++) {
		T_CHECK(rule_code(0x09, 3, 1, split) == 1002);		/* FIN clear */
		T_CHECK(rule_code(0xc9, 3, 1, split) == 1002);		/* RSV1 */
		T_CHECK(rule_code(0x8b, 3, 1, split) == 1002);		/* reserved opcode */
		T_CHECK(rule_code(0x89, 3, 0, split) == 1002);		/* unmasked */
		T_CHECK(rule_code(0x89, 126, 1, split) == 1002);	/* longer than 125 */
		T_CHECK(rule_code(0x89, 127, 1, split) == 1002);
	}
}

static void test_done_drops_the_rest(void)
{
	struct wsb_wsctl c = { 0 };
	struct got g = { .stop_on_close = 1 };
	unsigned char s[64];
	const char *why = NULL;
	size_t n = put(s, 0x88, 2, "\x03\xe8", 2);

	n += put(s + n, 0x89, 0, "", 0);
	T_CHECK(wsb_wsctl_feed(&c, s, n, on_frame, &g, &why) == 0);
	T_CHECK(g.n == 1 && c.done);
	T_CHECK(wsb_wsctl_feed(&c, s, n, on_frame, &g, &why) == 0 && g.n == 1);
}

static void test_server_frames(void)
{
	unsigned char f[WSB_WSCTL_FRAME_MAX];
	char reason[200];
	size_t n;

	T_CHECK(wsb_wsctl_frame(f, WSB_WSCTL_PONG, "ab", 2) == 4 && !memcmp(f, "\x8a\x02" "ab", 4));
	T_CHECK(wsb_wsctl_close(f, 0, "ignored") == 2 && !memcmp(f, "\x88\x00", 2));
	n = wsb_wsctl_close(f, 1001, "server shutting down");
	T_CHECK(n == 2 + 2 + 20 && f[1] == 22 && f[2] == 0x03 && f[3] == 0xe9 && !memcmp(f + 4, "server", 6));
	/* 122 ASCII bytes and a 2-byte character: cut before the character */
	memset(reason, 'r', 122);
	memcpy(reason + 122, "\xc3\xa9tail", 7);
	n = wsb_wsctl_close(f, 1008, reason);
	T_CHECK(n == 2 + 2 + 122 && f[1] == 124);
	memset(reason, 'r', 150);
	reason[150] = 0;
	T_CHECK(wsb_wsctl_close(f, 1008, reason) == 2 + 125 && f[1] == 125);
}

int main(void)
{
	T_RUN(test_one_frame);
	T_RUN(test_every_split);
	T_RUN(test_rules);
	T_RUN(test_done_drops_the_rest);
	T_RUN(test_server_frames);
	return t_done();
}
