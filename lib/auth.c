#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The first word of the first line that is not blank or a comment: a
 * server's token file (access.h) lists scopes after each token, and a
 * client given the same file sends the first token. */
static void first_token(FILE *f, char out[WSB_TOKEN_MAX])
{
	char line[WSB_TOKEN_MAX + 512];

	out[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		size_t i = strspn(line, " \t\r\n"), n = strcspn(line + i, " \t\r\n");

		if (!line[i] || line[i] == '#')
			continue;
		if (n < WSB_TOKEN_MAX)
			memcpy(out, line + i, n), out[n] = '\0';
		else
			memcpy(out, line + i, WSB_TOKEN_MAX - 1), out[WSB_TOKEN_MAX - 1] = '\0';
		break;
	}
	explicit_bzero(line, sizeof line);
}

int wsb_auth_load(const char *token, const char *file, char out[WSB_TOKEN_MAX], struct wsb_err *err)
{
	size_t n;

	out[0] = '\0';
	if (token && file)
		return wsb_err_set(err, WSB_EXIT_USAGE, "--token and --token-file are exclusive");
	if (file) {
		FILE *f = fopen(file, "r");

		if (!f)
			return wsb_err_errno(err, WSB_EXIT_CONFIG, errno, "cannot read token file %s", file);
		first_token(f, out);
		fclose(f);
	} else if (token) {
		if (strlen(token) >= WSB_TOKEN_MAX)
			return wsb_err_set(err, WSB_EXIT_CONFIG, "token longer than %d bytes", WSB_TOKEN_MAX - 1);
		strcpy(out, token);
	} else {
		return 0;
	}
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
	if (!n)
		return wsb_err_set(err, WSB_EXIT_CONFIG, "empty token%s%s", file ? " in " : "", file ? file : "");
	return 1;
}

int wsb_auth_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	/* Walk the expected secret's full length whatever the input is. */
	for (size_t i = 0; i < lb; i++)
		d |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return d == 0;
}
