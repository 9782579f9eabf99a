/* broker_int — what the broker's own files share: broker.c (the core),
 * broker_seq.c (cluster mode: the sequencer's calls), broker_pub.c
 * (publishing without a session), broker_refuse.c (a refused publish) and
 * broker_fan.c (when a publish fans out).
 * Private: included by those files only, never by a caller of broker.h;
 * the pieces (sessions, history...) stay ignorant of it.
 */
#ifndef WSB_BROKER_INT_H
#define WSB_BROKER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "acks.h"
#include "broker.h"
#include "envelope.h"
#include "history.h"
#include "sessions.h"
#include "snapshot.h"
#include "subs.h"

struct wsb_broker {
	struct wsb_broker_cfg cfg;
	struct wsb_broker_hooks hooks;
	char *greeting;		/* escaped, with quotes */
	size_t greeting_len;
	uint32_t id_prefix;
	uint64_t id_next;
	struct wsb_sessions ss;	/* sessions, their queues and stalls (sessions.h) */
	int pressure;		/* what hooks.pressure last said */
	int mem_pressure;	/* queued_bytes passed max_memory (with hysteresis) */
	struct wsb_snap *snap;		/* latest per type/key (snapshot.h) */
	struct wsb_deflate *zd;		/* compresses each message once, made at the first
					 * compressing session (pmd.h) */
	size_t transport_bytes;		/* held by the transport: unfinished messages */
	struct wsb_prods *prods;	/* producer ids, secrets and positions */
	struct wsb_ring pq;		/* published, waiting for the journal (acks.h) */
	size_t pq_bytes;
	char epoch[WSB_EPOCH_LEN + 1];
	struct wsb_hist hist;
	struct wsb_symkey symkey;	/* where a message's symbol is */
	struct wsb_broker_stats st;
	/* cluster mode (broker.h, "Sequencer") */
	struct wsb_broker_seq seq;	/* submit NULL: local numbering */
	int hold;			/* the sequencer holds publishers */
	struct wsb_sess *last_from;	/* sess_by_num's cache: bursts come from one session */
	/* wsb_broker_input_more: publishes of one type from one session that
	 * fan out together (broker_fan.c) */
	int batching;
	size_t nfan;
	struct wsb_msg *fan[WSB_FANOUT_BATCH];
	struct wsb_sess *fan_from;
	char fan_type[WSB_TYPE_MAX + 1];
};

/* The wall clock as an envelope timestamp. */
void wsb_brk_now_ts(const struct wsb_broker *b, char out[WSB_TS_LEN]);
/* Pressure on or off after anything that moves memory or stalls. */
void wsb_brk_check_pressure(struct wsb_broker *b);
/* Publishes m (parsed into env, n compact bytes of cap) from from, or from
 * nobody (NULL: broker_pub.c); takes m. */
void wsb_brk_publish(struct wsb_broker *b, struct wsb_sess *from, struct wsb_msg *m,
		     const struct wsb_env *env, size_t n, size_t cap);
/* s takes compressed frames (on), with the broker's deflater made the first time. */
void wsb_brk_compress(struct wsb_broker *b, struct wsb_sess *s, int on);
/* An error reply to s (counted; nothing for a closing session). */
void wsb_brk_reply_error(struct wsb_broker *b, struct wsb_sess *s, const char *code, const char *text);
/* A stamped message enters history and the snapshot table. */
void wsb_brk_retain(struct wsb_broker *b, struct wsb_msg *m, const char *type, size_t tlen);
/* Moves a registered producer's position from a stored or streamed
 * message; 1 if the message carries a producer stamp. */
int wsb_brk_position_from(struct wsb_broker *b, const char *obj, size_t len);
/* pseq of s may be acknowledged now. */
void wsb_brk_ack_ready(struct wsb_broker *b, struct wsb_sess *s, uint64_t pseq);
/* The live session with number num, or NULL (it left). */
struct wsb_sess *wsb_brk_sess_by_num(struct wsb_broker *b, uint64_t num);
/* broker_seq.c: a checked publish handed to the sequencer (owns m). */
/* broker_refuse.c: a publish refused with code (said to the operator too
 * if say); a producer's connection then publishes nothing more. */
void wsb_brk_refuse(struct wsb_broker *b, struct wsb_sess *s, const char *code, const char *text,
		    int say);
/* 1 (and the error said again) if s is a producer whose publish was refused. */
int wsb_brk_refused_before(struct wsb_broker *b, struct wsb_sess *s);
/* Whether s may publish type now (allow.h); if not, refused. */
int wsb_brk_may_publish(struct wsb_broker *b, struct wsb_sess *s, const char *type);
/* broker_fan.c: m published by from fans out now, after the read
 * (b->batching) or once durable; what waits fans out now. */
void wsb_brk_fan(struct wsb_broker *b, struct wsb_msg *m, struct wsb_sess *from, const char *type,
		 int probe);
void wsb_brk_fan_flush(struct wsb_broker *b);
/* wsb_broker_input without flushing first. */
void wsb_brk_input(struct wsb_broker *b, struct wsb_sess *s, const char *msg, size_t len);
void wsb_brk_submit(struct wsb_broker *b, struct wsb_sess *from, struct wsb_msg *m,
		    const struct wsb_env *env, size_t n, uint64_t pseq, const struct wsb_prod *pr);

#endif
