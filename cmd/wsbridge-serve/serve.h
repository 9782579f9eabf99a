/* serve — the wsbridge-serve program: the composition of the broker core
 * (lib/broker.h), the server transport (lib/wsserver.h), the journal and
 * the HTTP documents. Private to cmd/wsbridge-serve/:
 * - serve.c: options to broker and transport, the transport's ops (a
 *   connection's URL query is its join request), the broker's hooks;
 * - commit.c: --journal: recovery at start, group commit, acks that follow
 *   durability, the degraded state;
 * - http.c: /health, /metrics, /clients (with clients.c), / (JSON, or the
 *   console for a browser), /console, /wsbridge.js, and JSON errors for
 *   everything else;
 * - ready.c: --ready-fd and --pid-file, once it listens;
 * - door.c: the door's files (credentials, --allow-origin-file) at start
 *   and on SIGHUP, with the log file;
 * - filters.c: ?filter=, the broker's filter hooks on the jq worker;
 * - publish.c: POST /publish;
 * - input.c: --stdin.
 * The transport reaches this program only through its ops; the broker only
 * through its hooks.
 */
#ifndef WSB_SERVE_H
#define WSB_SERVE_H

#include <stdint.h>

#include "access.h"
#include "broker.h"
#include "config.h"
#include "err.h"
#include "wsserver.h"

/* When the journal commits next: nothing pending, at the --fsync-interval
 * timer, or at the end of this loop turn (group commit). */
enum serve_commit { COMMIT_IDLE, COMMIT_TIMER, COMMIT_NOW };

/* Retry-After, in seconds, of a 503 that a later try may not meet (/health
 * "unavailable", POST /publish): short, as the clients' own --retry-min,
 * since the instance may mend at any moment (Redis back, a disk freed). */
#define SERVE_RETRY_AFTER_S 1
#define SERVE_STR_(x) #x
#define SERVE_STR(x) SERVE_STR_(x)

struct serve {
	const struct wsb_cfg *cfg;
	struct wsb_err *err;		/* wsb_serve_run's, for errors from the ops */
	struct wsb_broker *broker;
	struct wsb_server *srv;
	uint64_t started;		/* wsb_mono_ns, for uptime */
	/* the door: credentials and Origins, replaced whole on SIGHUP */
	struct wsb_access *access;
	struct wsb_strlist origins;	/* --allow-origin, then the file's */
	char *origin_text;		/* the file's entries point in here */
	/* --snapshot-key */
	struct wsb_jqf *snapkey;
	/* ?filter= */
	struct serve_filters *filters;
	/* --journal */
	struct wsb_journal *journal;
	struct wsb_prodfile *prodfile;	/* DIR/producers: registered producer ids */
	enum serve_commit commit;
	int degraded;			/* the journal cannot be written */
	uint64_t lost_seq;		/* first seq the journal refused: acks stop before it */
	char degraded_reason[WSB_ERR_LEN];
	/* POST /publish answers waiting for the journal (publish.c) */
	struct serve_wait *waiting;
	struct serve_input *input;	/* --stdin (input.c) */
	struct wsb_err stop_err;	/* why the program stopped the server, if it did */
	/* --cluster */
	struct wsb_cluster *cluster;
};

/* The program behind wsbridge-serve(1), for wsb_cli_main. */
int wsb_serve_run(const struct wsb_cfg *cfg, struct wsb_err *err);

/* commit.c: opens --journal and restores the broker from it (before any
 * client), sets the broker hooks it serves; 0 or -1 + err. */
int serve_journal_open(struct serve *sv, struct wsb_err *err);
void serve_journal_close(struct serve *sv);
void serve_journal_hooks(struct serve *sv, struct wsb_broker_hooks *hooks);
/* The transport's timer fired: commit what waits. */
void serve_commit_due(struct serve *sv);

/* door.c: the credentials and Origins at start (0, or -1 + err), again on
 * SIGHUP (the transport's reload op: a failure keeps the old ones and is
 * logged), and freed at the end. */
int serve_door_load(struct serve *sv, struct wsb_err *err);
void serve_door_reload(void *ud);
void serve_door_free(struct serve *sv);
/* cluster.c: --cluster, after the broker and the transport exist and
 * before the loop runs (the cluster's epoch and history come first); 0 or
 * -1 + err. */
int serve_cluster_open(struct serve *sv, struct wsb_err *err);
void serve_cluster_close(struct serve *sv);
/* filters.c: the programs behind ?filter=, in a worker process. */
struct serve_filter_stats {
	uint64_t programs;		/* distinct filters compiled and not dropped */
	uint64_t subscribers;		/* connections holding a filter */
	uint64_t evaluations;		/* programs run, one per distinct filter per message */
	uint64_t errors;		/* runs that failed at run time (counted as false) */
	uint64_t dropped;		/* programs over --filter-time or --filter-memory */
	uint64_t restarts;		/* workers replaced */
};
int serve_filters_init(struct serve *sv, struct wsb_err *err);
void serve_filters_free(struct serve *sv);
void serve_filters_hooks(struct serve *sv, struct wsb_broker_hooks *hooks);
void serve_filters_stats(const struct serve *sv, struct serve_filter_stats *st);

/* http.c: the transport's http op. */
int serve_http(void *ud, struct wsb_http_req *rq);

/* publish.c: POST /publish (both calls of the http op for it); answers
 * that wait for the journal, given once it stored them (call after every
 * wsb_broker_durable) or dropped when their connection goes (the gone op). */
int serve_publish_http(struct serve *s, struct wsb_http_req *rq);
void serve_publish_durable(struct serve *s);
void serve_publish_gone(void *ud, struct wsb_conn *conn);
void serve_publish_free(struct serve *s);

/* input.c: --stdin, polled through wsb_server_watch. Start once the
 * server exists; resume from the tick (lines read before a pause, and the
 * rest of a pipe whose writer left); free before the server. */
int serve_input_start(struct serve *s, struct wsb_err *err);
void serve_input_resume(struct serve *s);
void serve_input_free(struct serve *s);

#endif
