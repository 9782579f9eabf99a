/* jsonchar — the character level of JSON strings (RFC 8259 section 7):
 * UTF-8 well-formedness, escapes, decoding one character, comparing a raw
 * key. Shared by the envelope scanner (lib/envelope.c) and its byte-at-a-time
 * reference (lib/envelope_ref.c), so the two differ only where the fast path
 * does; wsb_json_escape (envelope.h) is defined here too. Pure functions, no
 * I/O, no allocation.
 */
#ifndef WSB_JSONCHAR_H
#define WSB_JSONCHAR_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s[0..n) (n >= 1), or 0. The
 * second-byte ranges are those of RFC 3629 section 4: no overlong forms, no
 * UTF-16 surrogates (ED A0..BF), nothing above U+10FFFF. */
size_t wsb_jsonchar_utf8_len(const unsigned char *s, size_t n);

/* Whether s[0..n) is well-formed UTF-8 throughout (the rule above): what
 * RFC 6455 asks of every text message. ASCII is skipped eight bytes a step. */
int wsb_jsonchar_utf8_valid(const void *s, size_t n);

/* The code unit of the "\uXXXX" at s[i] (within s[0..len)), or -1. */
long wsb_jsonchar_hex4(const char *s, size_t len, size_t i);

/* Decodes one character of a JSON string body at s[*i] (not the closing
 * quote) into b and advances *i; returns its byte count, or -1 for a
 * malformed escape. A raw multibyte character is one unit (an invalid byte
 * a unit of one), so callers that truncate keep characters whole. A lone
 * surrogate escape decodes to U+FFFD, as jq's does. */
int wsb_jsonchar_decode(const char *s, size_t len, size_t *i, char b[4]);

/* Whether the raw string body raw[0..n) (escapes as written) decodes to the
 * NUL-terminated key: "t\u0079pe" is "type", as any JSON reader sees it. */
int wsb_jsonchar_key_eq(const char *raw, size_t n, const char *key);

#endif
