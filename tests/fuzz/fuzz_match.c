/* fuzz_match — the glob matcher against fnmatch(3), and the pattern set.
 * The input is PATTERN NUL TEXT. Where both define the same language (no
 * '[' and no '\\' in the pattern: wsbridge globs have no classes and no
 * escapes; flags 0 so '*' crosses '/' and leading dots; the C locale, so
 * '?' is one byte) the two must agree. A set holding only the pattern
 * matches exactly what the glob does; removing it leaves a set that
 * matches nothing. */
#include "fuzz.h"

#include <fnmatch.h>

#include "match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	struct wsb_patterns set;
	struct wsb_err err;
	char *pat, *text;
	int got;

	if (!nul)
		return 0;
	pat = fuzz_dup(data, (size_t)(nul - data));
	text = fuzz_dup(nul + 1, size - (size_t)(nul - data) - 1);
	got = wsb_match_glob(pat, text);
	FUZZ_CHECK(got == 0 || got == 1);
	if (!strpbrk(pat, "[\\"))
		FUZZ_CHECK(got == (fnmatch(pat, text, 0) == 0));
	if (wsb_match_pattern_ok(pat, &err)) {
		wsb_patterns_init(&set);
		FUZZ_CHECK(wsb_patterns_match(&set, text) == 1);	/* a new set is "all" */
		FUZZ_CHECK(wsb_patterns_add(&set, pat) == 1 && wsb_patterns_add(&set, pat) == 0);
		FUZZ_CHECK(wsb_patterns_match(&set, text) == got);
		FUZZ_CHECK(wsb_patterns_remove(&set, pat) == 1 && wsb_patterns_remove(&set, pat) == 0);
		FUZZ_CHECK(wsb_patterns_match(&set, text) == 0);
		wsb_patterns_free(&set);
	} else {
		FUZZ_CHECK(err.msg[0] != '\0');
	}
	free(pat);
	free(text);
	return 0;
}
