/* envelope_ref — the reference envelope scanner: the byte-at-a-time
 * wsb_env_parse, wsb_env_lookup and wsb_env_string of wsbridge 0.1.0, kept
 * unchanged as the oracle of the fast path in lib/envelope.c.
 *
 * Same contracts as their namesakes in envelope.h, to the byte: same return
 * values, same compact output, same env (spans, type, seq), same error text.
 * tests/fuzz/fuzz_envelope_diff.c checks that on every input, and
 * tests/bench/envbench.c measures one against the other. Nothing in the
 * programs calls these (the linker leaves them out); do not: they are slow on
 * purpose, and a fix belongs in both files, the fuzz target proving them equal.
 */
#ifndef WSB_ENVELOPE_REF_H
#define WSB_ENVELOPE_REF_H

#include "envelope.h"

ssize_t wsb_env_parse_ref(const char *in, size_t len, char *out, const char *const *drop,
			  struct wsb_env *env, struct wsb_err *err);
int wsb_env_lookup_ref(const char *obj, size_t len, const char *key, struct wsb_span *val);
ssize_t wsb_env_string_ref(const char *v, size_t len, char *out, size_t cap);

#endif
