/* auth — a client's token: where it comes from and how tokens are
 * compared. The secret never reaches a log line. (The server's set of
 * credentials and their scopes is access.h.) */
#ifndef WSB_AUTH_H
#define WSB_AUTH_H

#include <stddef.h>

#include "err.h"

#define WSB_TOKEN_MAX 512

/* The token from --token or --token-file (the first word of its first line
 * that is not blank or a '#' comment: the scopes a server's file lists
 * after it are not sent) into out. Returns 1 if there is one, 0 if neither is
 * given, -1 with err (WSB_EXIT_CONFIG) if the file cannot be read or the
 * token is empty or too long. */
int wsb_auth_load(const char *token, const char *file, char out[WSB_TOKEN_MAX], struct wsb_err *err);
/* Compares in time independent of where the strings differ. 1 if equal. */
int wsb_auth_equal(const char *a, const char *b);

#endif
