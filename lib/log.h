/* log — one line per event on stderr, as text or JSON.
 *
 * The only module that writes diagnostics. Callers must never pass message
 * bodies or tokens; wsb_log_redact() strips "token=" values from a URL or
 * query string before it is logged.
 */
#ifndef WSB_LOG_H
#define WSB_LOG_H

#include <stddef.h>

enum wsb_log_level { WSB_LOG_ERROR = 0, WSB_LOG_WARN, WSB_LOG_INFO, WSB_LOG_DEBUG };
enum wsb_log_format { WSB_LOG_TEXT = 0, WSB_LOG_JSON };

/* progname prefixes text lines ("wsbridge-sub: ..."); level is the most
 * verbose level printed. */
void wsb_log_init(const char *progname, int level, int format);
int wsb_log_level(void);
void wsb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies s into out (cap bytes), replacing the value of every token=,
 * access_token= or producer_secret= parameter with "***". Returns out. */
char *wsb_log_redact(const char *s, char *out, size_t cap);

#endif
