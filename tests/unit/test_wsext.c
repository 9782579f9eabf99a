#define T_SUITE "wsext"
#include "t.h"

#include "wsext.h"

static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			   "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
			   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02{}";

/* Feeds s cut at `cut`, as lwsio does: what is held back comes again in
 * front of the next read. Returns what lws got, in out. */
static size_t run(struct wsb_wsext *x, const char *s, size_t n, size_t cut, char *out)
{
	unsigned char b[1024];
	size_t got, held;

	wsb_wsext_init(x);
	memcpy(b, s, cut);
	got = wsb_wsext_feed(x, b, cut);
	memcpy(out, b, got);
	held = cut - got;
	T_CHECK(held <= WSB_WSEXT_HOLD);
	memmove(b, b + got, held);
	memcpy(b + held, s + cut, n - cut);
	memcpy(out + got, b, wsb_wsext_feed(x, b, held + n - cut));
	return got + wsb_wsext_feed(x, b, 0) + (held + n - cut);
}

/* Cut anywhere: the same value, the header renamed, the frame untouched. */
static void test_any_cut(void)
{
	size_t n = sizeof head - 1, at = (size_t)(strstr(head, "Sec-WebSocket-Ext") - head);

	for (size_t cut = 0; cut <= n; cut++) {
		struct wsb_wsext x;
		char out[1024];

		T_CHECK(run(&x, head, n, cut, out) == n);
		T_CHECK(wsb_wsext_done(&x) && x.named && x.verdict == 1);
		T_STREQ(x.value, " permessage-deflate; server_no_context_takeover");
		T_CHECK(!memcmp(out, head, at) && out[at] == 'X' && !memcmp(out + at + 1, head + at + 1, n - at - 1));
	}
}

static int verdict(const char *s, char *value)
{
	struct wsb_wsext x;
	unsigned char b[1024];
	size_t n = strlen(s);

	wsb_wsext_init(&x);
	memcpy(b, s, n);
	T_CHECK(wsb_wsext_feed(&x, b, n) == n);
	strcpy(value, x.value);
	return wsb_wsext_done(&x) ? x.verdict : 99;
}

static void test_verdicts(void)
{
	char v[256];
	char longer[1200] = "HTTP/1.1 101 x\r\nSec-WebSocket-Extensions: permessage-deflate";

	T_CHECK(verdict("HTTP/1.1 101 x\r\nUpgrade: websocket\r\n\r\n", v) == 0 && !v[0]);
	T_CHECK(verdict("HTTP/1.1 101 x\nsec-websocket-extensions: x-other\n\n", v) == -1);
	/* two headers are one list: two extensions */
	T_CHECK(verdict("HTTP/1.1 101 x\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
			"Sec-WebSocket-Extensions: x-other\r\n\r\n", v) == -1);
	T_STREQ(v, " permessage-deflate; server_no_context_takeover,  x-other");
	/* a name that only begins like it is another header */
	T_CHECK(verdict("HTTP/1.1 101 x\r\nSec-WebSocket-Extensionsx: y\r\nSec-WebSocket-Ext: y\r\n\r\n", v) == 0);
	T_CHECK(verdict("HTTP/1.1 101 x\r\n", v) == 99);	/* not over yet */
	for (int i = 0; i < 30; i++)
		strcat(longer, "; server_no_context_takeover");
	strcat(longer, "\r\n\r\n");
	T_CHECK(verdict(longer, v) == -1);
}

int main(void)
{
	T_RUN(test_any_cut);
	T_RUN(test_verdicts);
	return t_done();
}
