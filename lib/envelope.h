/* envelope — the JSON message envelope: validate, compact, find the members
 * wsbridge cares about, in one pass and without building a tree.
 *
 * A message is a JSON object {"type":..., "data":..., "timestamp":..., "seq":...}.
 * wsb_env_parse() is the hot path on both ends (pub reads a line, serve reads a
 * frame): it checks RFC 8259 syntax (strings must be valid UTF-8, nesting at
 * most WSB_JSON_MAX_DEPTH), writes the compact form (insignificant white space
 * removed, so every message fits on one NDJSON line) and records where the
 * top-level members start, so callers splice bytes instead of re-serialising.
 * libjq is used only where a user gives a jq program; never here.
 * Pure functions, no I/O, no allocation.
 */
#ifndef WSB_ENVELOPE_H
#define WSB_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "proto.h"	/* WSB_TYPE_MAX */

#define WSB_TS_LEN 32		/* "2026-11-22T03:11:40.123Z" plus NUL, rounded up */
#define WSB_JSON_MAX_DEPTH 256	/* as jq 1.6 */

enum wsb_env_status {
	WSB_ENV_INVALID_JSON = 1,	/* not JSON at all */
	WSB_ENV_INVALID_MESSAGE = 2,	/* JSON, but not an object */
};

struct wsb_span {
	size_t off, len;		/* into the compact output; len 0 = absent */
};

struct wsb_env {
	int has_type;			/* top-level "type" is a string of 1..WSB_TYPE_MAX bytes */
	char type[WSB_TYPE_MAX + 1];	/* decoded, NUL-terminated ("" if !has_type) */
	size_t type_len;
	int has_seq;			/* top-level "seq" is an integer 0..2^64-1 */
	uint64_t seq;
	struct wsb_span type_v;		/* value spans (the raw JSON value) in the output */
	struct wsb_span data;
	struct wsb_span timestamp;
	struct wsb_span seq_v;
	struct wsb_span producer;	/* spans only: a producer's stamp, unchecked */
	struct wsb_span pseq;
};

/* Validates the JSON text in[0..len), writes its compact form to out (which
 * must have room for len bytes; the result is never longer), leaving out any
 * top-level member whose name is in drop (a NULL-terminated list, or NULL).
 * Fills env from the top-level members that were kept. Returns the compact
 * length, or -WSB_ENV_INVALID_JSON / -WSB_ENV_INVALID_MESSAGE with a message
 * in err that gives the byte offset ("invalid JSON at byte 17: expected ','
 * or '}'"). Not a message either: an object that repeats a top-level
 * "type", "data", "timestamp", "seq", "producer" or "pseq" (dropped or not),
 * since readers disagree on which one counts. A missing or non-string
 * "type" is not an error here: check env->has_type. */
ssize_t wsb_env_parse(const char *in, size_t len, char *out, const char *const *drop,
		      struct wsb_env *env, struct wsb_err *err);

/* Finds top-level member key in a compact object produced by wsb_env_parse.
 * Returns 1 and the value's span, or 0. */
int wsb_env_lookup(const char *obj, size_t len, const char *key, struct wsb_span *val);

/* Calls fn for each element of the compact JSON array at arr[0..len) that is
 * a string, decoded and NUL-terminated (elements longer than WSB_TYPE_MAX are
 * passed truncated with too_long=1). Returns -1 if arr is not an array, else
 * the number of string elements (non-strings are skipped and counted in
 * *skipped when not NULL). Stops early, returning -1, if fn returns -1. */
int wsb_env_strings(const char *arr, size_t len,
		    int (*fn)(void *ud, const char *s, size_t n, int too_long), void *ud,
		    size_t *skipped);

/* Decodes the JSON string value at v[0..len) (with its quotes) into out
 * (cap bytes, NUL-terminated). Returns the decoded length, or -1 if v is not
 * a string or does not fit. */
ssize_t wsb_env_string(const char *v, size_t len, char *out, size_t cap);

/* Parses an unsigned integer JSON number value; -1 if not one. */
int wsb_env_uint(const char *v, size_t len, uint64_t *out);

/* A type name clients may publish: 1..WSB_TYPE_MAX bytes, no control
 * characters, no '*' or '?', and not reserved. Returns 1 or 0 with a reason
 * in err. */
int wsb_env_type_ok(const char *type, size_t len, struct wsb_err *err);
/* Control types the server speaks (ping, pong, subscribe, ...), the
 * requests it answers (heartbeat, get_state, request_snapshot), and every
 * type that starts with "wsbridge." or '$', are reserved. "error" is not:
 * applications publish it (the broker's own carry no seq). */
int wsb_env_type_reserved(const char *type);

/* Writes s[0..len) as a quoted JSON string (escaping '"', '\\' and control
 * characters; invalid UTF-8 bytes become U+FFFD) into out, NUL-terminated.
 * Returns the length the full result needs, like snprintf: a result >= cap
 * means it was truncated. */
size_t wsb_json_escape(char *out, size_t cap, const char *s, size_t len);

/* ISO 8601 UTC with milliseconds and 'Z': "2026-11-22T03:11:40.123Z". */
void wsb_env_timestamp(char out[WSB_TS_LEN], const struct timespec *ts);
void wsb_env_timestamp_now(char out[WSB_TS_LEN]);
/* Parses an ISO 8601 date-time ("2026-11-22T03:11:40Z", fractions of any
 * length, "+hh:mm"/"-hhmm" offsets, ' ' for 'T') into milliseconds since the
 * epoch. Returns 0, or -1 if s is not one. */
int wsb_env_parse_time(const char *s, size_t len, int64_t *ms);

#endif
