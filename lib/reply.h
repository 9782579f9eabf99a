/* reply — the JSON the broker writes itself: the stamp it adds to a
 * published message, and the replies and records that concern one session
 * (error, pong, gap, ack). Pure: the caller passes the time as text.
 */
#ifndef WSB_REPLY_H
#define WSB_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/* Room the stamp may add to a compact message: `,"timestamp":"...Z"` (39
 * bytes; 46 should a clock report a year past 9999) plus
 * `,"seq":18446744073709551615}` (28). A pong adds at most 69 bytes to the
 * data it echoes, so it fits the same bound. */
#define WSB_STAMP_MAX 80

/* Rewrites the closing '}' of the compact object p[0..n) as
 * ,"timestamp":"ts" (if ts is not NULL) ,"seq":seq}. The new length. */
size_t wsb_reply_stamp(char *p, size_t n, const char *ts, uint64_t seq);
/* The same without seq (cluster mode: the stream numbers it later). */
size_t wsb_reply_stamp_ts(char *p, size_t n, const char *ts);
/* {"type":"error",...,"data":{"code":...,"message":...,"source":"wsbridge"}}
 * with code and text (at most WSB_ERR_LEN), sealed; NULL on ENOMEM. No seq
 * and that source are what tell it from an application's published "error"
 * (which always has a seq). */
struct wsb_msg *wsb_reply_error(const char *ts, const char *code, const char *text);
/* {"type":"pong",...} echoing data (a JSON value, dlen 0: none), sealed. */
struct wsb_msg *wsb_reply_pong(const char *ts, const char *data, size_t dlen);
/* A gap record frame: seqs from..to (to 0: unknown, null) of epoch are
 * lost. Appended to o; its length, 0 if it does not fit in hard. */
size_t wsb_reply_gap(struct wsb_out *o, uint64_t from, uint64_t to, const char *reason,
		     const char *epoch);
/* The same record as a message of its own, for a queue; NULL on ENOMEM. */
struct wsb_msg *wsb_reply_gap_msg(uint64_t from, uint64_t to, const char *reason, const char *epoch);
/* {"type":"ack","pseq":N} frame appended to o; its length, 0 if no room. */
size_t wsb_reply_ack(struct wsb_out *o, uint64_t pseq);

#endif
