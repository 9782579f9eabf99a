/* log — one line per event on stderr, as text or JSON.
 *
 * The only module that writes diagnostics. Callers must never pass message
 * bodies or tokens; wsb_log_redact() strips "token=" values from a URL or
 * query string before it is logged.
 */
#ifndef WSB_LOG_H
#define WSB_LOG_H

#include <stddef.h>

#include "err.h"

enum wsb_log_level { WSB_LOG_ERROR = 0, WSB_LOG_WARN, WSB_LOG_INFO, WSB_LOG_DEBUG };
enum wsb_log_format { WSB_LOG_TEXT = 0, WSB_LOG_JSON };

/* progname prefixes text lines ("wsbridge-sub: ..."); level is the most
 * verbose level printed. */
void wsb_log_init(const char *progname, int level, int format);
int wsb_log_level(void);
void wsb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log lines go to the file at path (appended) instead of stderr. 0, or -1
 * + err (WSB_EXIT_CONFIG) when it cannot be opened. */
int wsb_log_open(const char *path, struct wsb_err *err);
/* Opens the file again (after logrotate moved it): 0, or -1 + err, the
 * old file kept. Nothing to do without wsb_log_open. */
int wsb_log_reopen(struct wsb_err *err);

/* Copies s into out (cap bytes), replacing the value of every token=,
 * access_token= or producer_secret= parameter with "***". Returns out. */
char *wsb_log_redact(const char *s, char *out, size_t cap);

#endif
