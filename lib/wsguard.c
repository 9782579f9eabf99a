#include "wsguard.h"

/* Where the tracker is in the stream. */
enum {
	H_START,			/* HTTP: at the start of a line */
	H_CR,				/* HTTP: a CR at the start of a line */
	H_LINE,				/* HTTP: inside a line */
	F_B0,				/* frame: first header byte (FIN, RSV, opcode) */
	F_B1,				/* frame: mask bit and 7-bit length */
	F_REST,				/* frame: extended length, then mask key */
	F_PAYLOAD,			/* frame: payload, skipped by count */
};

/* g->upgrade: 0..8 chars of "upgrade:" matched at the start of this line,
 * UP_VALUE once a value byte follows, UP_NO when the line is something else.
 * An empty Upgrade value is no upgrade to lws, so the value must be seen. */
#define UP_NAME 8
#define UP_VALUE 9
#define UP_NO 10

void wsb_wsguard_init(struct wsb_wsguard *g, enum wsb_wsguard_side side, int http)
{
	*g = (struct wsb_wsguard){ .bad = UINT64_MAX, .side = (uint8_t)side };
	g->state = http ? H_START : F_B0;
	g->frames_at = http ? UINT64_MAX : 0;
}

static void end_line(struct wsb_wsguard *g)
{
	if (g->upgrade == UP_VALUE)
		g->head_up = 1;
	g->upgrade = 0;
	g->state = H_START;
}

/* An empty line ends a head: frames follow if it asked for an upgrade. */
static void end_head(struct wsb_wsguard *g)
{
	g->state = g->head_up ? F_B0 : H_START;
	g->head_up = 0;
	g->upgrade = 0;
}

static void http_byte(struct wsb_wsguard *g, unsigned char c)
{
	static const char name[] = "upgrade:";

	if (g->state == H_START || g->state == H_CR) {
		if (c == '\n') {
			end_head(g);
			return;
		}
		if (g->state == H_START && c == '\r') {
			g->state = H_CR;
			return;
		}
		if (g->state == H_CR)
			g->upgrade = UP_NO;
		g->state = H_LINE;
	}
	if (c == '\n') {
		end_line(g);
		return;
	}
	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c + 'a' - 'A');
	if (g->upgrade < UP_NAME)
		g->upgrade = c == (unsigned char)name[g->upgrade] ? g->upgrade + 1 : UP_NO;
	else if (g->upgrade == UP_NAME && c != ' ' && c != '\t' && c != '\r')
		g->upgrade = UP_VALUE;
}

/* The second header byte: the rule itself, then what the header still holds. */
static void header_b1(struct wsb_wsguard *g, unsigned char c)
{
	unsigned masked = c & 0x80, len7 = c & 0x7f;

	if (masked != (g->side == WSB_WSGUARD_SERVER ? 0x80u : 0u) && !g->failed) {
		g->bad = g->hdr_at;
		g->failed = 1;
	}
	g->lenbytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
	g->len = g->lenbytes ? 0 : len7;
	g->need = masked ? 4 : 0;
	g->state = F_REST;
}

static void payload_start(struct wsb_wsguard *g)
{
	g->frames++;
	g->skip = g->len;
	g->state = g->skip ? F_PAYLOAD : F_B0;
}

size_t wsb_wsguard_feed(struct wsb_wsguard *g, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t start = g->pos;
	size_t i = 0;

	while (i < n) {
		if (g->state == F_PAYLOAD) {	/* the common case: skip, don't look */
			size_t take = (uint64_t)(n - i) < g->skip ? n - i : (size_t)g->skip;

			i += take;
			g->skip -= take;
			if (!g->skip)
				g->state = F_B0;
			continue;
		}
		if (g->state < F_B0) {
			http_byte(g, b[i++]);
			if (g->state == F_B0)
				g->frames_at = start + i;
			continue;
		}
		if (g->state == F_B0) {
			/* After a violation frames are still followed, for the close. */
			if (g->failed && (b[i] & 0x0f) == 0x8)
				g->peer_closed = 1;
			g->hdr_at = start + i++;
			g->state = F_B1;
			continue;
		}
		if (g->state == F_B1)
			header_b1(g, b[i++]);
		else if (g->lenbytes) {
			g->len = g->len << 8 | b[i++];
			g->lenbytes--;
		} else if (g->need) {
			g->need--;
			i++;
		}
		if (g->state == F_REST && !g->lenbytes && !g->need)
			payload_start(g);
	}
	g->pos = start + n;
	if (!g->failed)
		return n;
	return g->bad >= start ? (size_t)(g->bad - start) : 0;
}

int wsb_wsguard_failed(const struct wsb_wsguard *g)
{
	return g->failed;
}

int wsb_wsguard_peer_closed(const struct wsb_wsguard *g)
{
	return g->peer_closed;
}

uint64_t wsb_wsguard_bad_at(const struct wsb_wsguard *g)
{
	return g->bad;
}

int wsb_wsguard_in_http(const struct wsb_wsguard *g)
{
	return g->state < F_B0;
}

uint64_t wsb_wsguard_frames_at(const struct wsb_wsguard *g)
{
	return g->frames_at;
}
