/* wsbridge-serve --cluster: the broker's sequencer on Redis (lib/cluster.h),
 * its two connections watched by the transport's loop (serve.h). */
#include "serve.h"

#include <string.h>

#include "auth.h"
#include "cluster.h"

static void on_event(void *ud, void *h, int writable)
{
	struct serve *sv = ud;

	if (sv->cluster)
		wsb_cluster_event(sv->cluster, h, writable);
}

static void *loop_watch(void *ud, int fd, void *h)
{
	return wsb_server_watch(((struct serve *)ud)->srv, fd, on_event, ud, h);
}

static void loop_want_write(void *ud, void *w)
{
	wsb_server_watch_write(w);
}

static void loop_unwatch(void *ud, void *w)
{
	wsb_server_unwatch(w);
}

int serve_cluster_open(struct serve *sv, struct wsb_err *err)
{
	const struct wsb_cfg *cfg = sv->cfg;
	struct wsb_cluster_loop loop = { sv, loop_watch, loop_want_write, loop_unwatch };
	char password[WSB_TOKEN_MAX] = "";
	/* The stream keeps at least what history does, and enough for an
	 * instance that was away a while to read on without a gap. */
	struct wsb_cluster_cfg cc = {
		.url = cfg->cluster,
		.name = cfg->cluster_name,
		.stream_len = cfg->history > 65536 ? cfg->history : 65536,
		.history = cfg->history,
		.timeout = cfg->cluster_timeout,
		.inflight_max = cfg->max_queue / 4 > (1 << 20) ? cfg->max_queue / 4 : (1 << 20),
	};

	if (cfg->cluster_password_file) {
		if (wsb_auth_load(NULL, cfg->cluster_password_file, password, err) < 0)
			return -1;
		cc.password = password;
	}
	sv->cluster = wsb_cluster_open(&cc, sv->broker, &loop, err);
	memset(password, 0, sizeof password);
	return sv->cluster ? 0 : -1;
}

void serve_cluster_close(struct serve *sv)
{
	wsb_cluster_free(sv->cluster);
	sv->cluster = NULL;
}
