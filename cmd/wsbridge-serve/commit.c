/* wsbridge-serve --journal: every accepted message is appended, and
 * acknowledged only once the journal has it (serve.h). */
#include "serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "prodfile.h"

#define RETRY_US 500000		/* a failed commit or registration: the disk may recover */

static void set_degraded(struct serve *s, const char *why)
{
	if (!why) {
		if (s->degraded)
			wsb_log(WSB_LOG_WARN, "journal writable again: acknowledging");
		s->degraded = 0;
		return;
	}
	if (!s->degraded || strcmp(why, s->degraded_reason))
		wsb_log(WSB_LOG_ERROR, "%s: not acknowledging until it can be written", why);
	s->degraded = 1;
	snprintf(s->degraded_reason, sizeof s->degraded_reason, "%s", why);
}

static void arm_commit(struct serve *s, int64_t us)
{
	if (s->commit != COMMIT_IDLE)
		return;
	s->commit = COMMIT_TIMER;
	wsb_server_timer(s->srv, us);
}

static void commit_now(struct serve *s, int sync)
{
	struct wsb_err err = { 0 };

	/* Registrations first: a producer's lines are never stored (nor
	 * acknowledged) before the broker can recognise it after a restart. */
	if (wsb_prodfile_flush(s->prodfile, &err) || wsb_journal_commit(s->journal, sync, &err)) {
		set_degraded(s, err.msg);
		arm_commit(s, RETRY_US);	/* retry: the disk may recover */
		return;
	}
	/* A message the journal never took is never stored: nothing from it
	 * on is acknowledged or delivered, and health stays degraded until a
	 * restart (publishers then resend what was not acknowledged). */
	if (s->lost_seq) {
		wsb_broker_durable(s->broker, s->lost_seq - 1 < wsb_journal_durable(s->journal)
						      ? s->lost_seq - 1 : wsb_journal_durable(s->journal));
		return;
	}
	set_degraded(s, NULL);
	wsb_broker_durable(s->broker, wsb_journal_durable(s->journal));
}

void serve_commit_due(struct serve *s)
{
	s->commit = COMMIT_IDLE;
	commit_now(s, s->cfg->fsync == WSB_FSYNC_BATCH);
}

static void hook_journal(void *ud, const char *msg, size_t len, uint64_t seq)
{
	struct serve *s = ud;
	struct wsb_err err = { 0 };

	if (wsb_journal_append(s->journal, msg, len, seq, &err)) {
		if (!s->lost_seq)
			s->lost_seq = seq;
		set_degraded(s, err.msg);
	}
	/* always/never: right after this loop turn, so one fsync covers every
	 * message of one read (group commit); batch: every --fsync-interval,
	 * or at once when enough waits that subscribers should not get it all
	 * in one burst (the broker holds publishers past a quarter of
	 * --max-queue). */
	if (s->cfg->fsync != WSB_FSYNC_BATCH ||
	    wsb_journal_pending(s->journal) >= s->cfg->max_queue / 8) {
		if (s->commit != COMMIT_NOW) {
			s->commit = COMMIT_NOW;
			wsb_server_timer(s->srv, 1);
		}
		return;
	}
	arm_commit(s, (int64_t)(s->cfg->fsync_interval * 1e6));
}

static int hook_producer(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH],
			 struct wsb_err *err)
{
	struct serve *s = ud;

	int r = wsb_prodfile_add(s->prodfile, id, hash, err);

	if (r < 0) {
		wsb_log(WSB_LOG_ERROR, "%s: refusing new producer %s", err->msg, id);
		return -1;
	}
	if (r > 0) {		/* kept: commit_now retries it before the journal */
		set_degraded(s, err->msg);
		arm_commit(s, RETRY_US);
	}
	return 0;
}

static int restore_producer(void *ud, const char *id, const unsigned char hash[WSB_SECRET_HASH])
{
	return wsb_broker_restore_producer(((struct serve *)ud)->broker, id, hash);
}

static int restore_line(void *ud, const char *line, size_t len, uint64_t seq)
{
	struct serve *s = ud;

	if (wsb_broker_restore(s->broker, line, len, seq))
		wsb_log(WSB_LOG_WARN, "journal: skipped a line that is not a message (seq %" PRIu64 ")", seq);
	return 0;
}

int serve_journal_open(struct serve *s, struct wsb_err *err)
{
	struct wsb_journal_cfg jc = {
		.dir = s->cfg->journal,
		.fsync = s->cfg->fsync,
		.segment_bytes = s->cfg->journal_segment,
		.retain_bytes = s->cfg->journal_retain,
		.max_line = wsb_broker_frame_max(s->cfg->max_message),
	};
	char epoch[WSB_EPOCH_LEN + 1];
	uint64_t last = 0;
	size_t skipped = 0, plines = 0, pskipped = 0;

	/* Producers first: journal lines restore positions only for them. */
	if (wsb_prodfile_load(s->cfg->journal, restore_producer, s, &plines, &pskipped, err) < 0)
		return -1;
	if (pskipped)
		wsb_log(WSB_LOG_WARN, "%s/producers: skipped %zu malformed lines", s->cfg->journal, pskipped);
	s->journal = wsb_journal_open(&jc, wsb_broker_epoch(s->broker), epoch, &last, &skipped,
				      restore_line, s, err);
	if (!s->journal)
		return -1;
	s->prodfile = wsb_prodfile_open(s->cfg->journal, s->cfg->fsync != WSB_FSYNC_NEVER, 65536,
					plines, err);
	if (!s->prodfile)
		return -1;
	wsb_broker_set_epoch(s->broker, epoch);
	wsb_broker_advance_seq(s->broker, last);
	wsb_log(WSB_LOG_INFO, "journal %s: epoch %s, last seq %" PRIu64, s->cfg->journal, epoch, last);
	if (skipped)
		wsb_log(WSB_LOG_WARN, "journal %s: skipped %zu unreadable lines (not a message, or longer "
			"than --max-message allows)", s->cfg->journal, skipped);
	return 0;
}

void serve_journal_hooks(struct serve *s, struct wsb_broker_hooks *hooks)
{
	hooks->journal = hook_journal;
	hooks->producer = hook_producer;
}

void serve_journal_close(struct serve *s)
{
	if (s->journal)
		wsb_journal_close(s->journal);
	wsb_prodfile_close(s->prodfile);
}
