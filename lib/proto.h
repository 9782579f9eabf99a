/* proto — the wire constants of the wsbridge protocol, defined once.
 *
 * Everything a peer can observe or must respect: close codes, the sizes of
 * ids and names, and the limits the broker enforces per connection. Each is
 * documented in wsbridge(7) and docs/protocol.md; a module that needs one
 * includes this header rather than a neighbour that happens to define it.
 * Constants only: no types, no functions.
 */
#ifndef WSB_PROTO_H
#define WSB_PROTO_H

#include <stdint.h>

/* Close codes (RFC 6455 section 7.4, and 4008 of our own). */
#define WSB_CLOSE_NORMAL 1000
#define WSB_CLOSE_GOING_AWAY 1001
#define WSB_CLOSE_UNSUPPORTED 1003	/* binary frame */
#define WSB_CLOSE_POLICY 1008		/* auth, producer id, unfinished message */
#define WSB_CLOSE_TOO_BIG 1009
#define WSB_CLOSE_INTERNAL 1011
#define WSB_CLOSE_SLOW 4008		/* slow consumer: its queue passed --max-queue */

#define WSB_TYPE_MAX 128		/* bytes in a decoded type name or pattern */
#define WSB_PATTERNS_MAX 256		/* type patterns one connection may hold */
#define WSB_FILTER_MAX 1024		/* bytes of a decoded ?filter= jq program */

/* Producer ids: 1..64 bytes of [A-Za-z0-9._:-]. wsbridge-pub --producer NAME
 * goes on the wire as NAME:RRRRRRRR (a run suffix, 8 hex digits), so the
 * name may use what the suffix leaves. */
#define WSB_PRODUCER_ID_MAX 64
#define WSB_PRODUCER_RUN_LEN 9
#define WSB_PRODUCER_NAME_MAX 55
_Static_assert(WSB_PRODUCER_NAME_MAX + WSB_PRODUCER_RUN_LEN == WSB_PRODUCER_ID_MAX,
	       "the --producer name and its run suffix fill the protocol's id");
#define WSB_SECRET_HEX 32		/* characters of a producer secret (128 bits) */
/* A producer's next pseq may be at most this far past its last accepted
 * one: far beyond any window a publisher keeps (wsbridge-pub --drop-oldest
 * skips what it dropped), yet no single message can move a producer to the
 * end of the pseq space. */
#define WSB_PSEQ_JUMP_MAX ((uint64_t)1 << 32)

#define WSB_EPOCH_LEN 16		/* hex characters of the epoch a broker issues */
#define WSB_EPOCH_MAX 64		/* what a client accepts: the server's, with slack */

#endif
