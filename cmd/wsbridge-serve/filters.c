/* ?filter=: the broker's filter hooks (broker.h) on the jq worker
 * (jqproc.h). One program per distinct text, shared by every subscriber
 * that sent that text; for each message the broker asks once about all the
 * filtered subscribers it reached, and each distinct program runs once, on
 * the message parsed once, in the worker. */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"
#include "jqproc.h"
#include "log.h"

struct filt {
	struct filt *next;
	char *text;
	int id;			/* jqproc's */
	uint64_t refs;		/* subscribers holding it */
	uint64_t call;		/* the last eval call that named it */
	size_t slot;		/* its place in that call's request */
	int dead;		/* over budget: its subscribers are dropped */
};

struct serve_filters {
	struct wsb_jqproc *jp;
	struct filt *list;
	uint64_t call;
	struct filt **uniq;	/* one eval call's distinct programs */
	int *ids;
	unsigned char *res;
	size_t cap;
	int failing;		/* the worker cannot start: said once */
	struct serve_filter_stats st;
};

static void *filter_open(void *ud, const char *text, struct wsb_err *err)
{
	struct serve_filters *F = ((struct serve *)ud)->filters;
	struct filt *f;

	if (strlen(text) > WSB_FILTER_MAX) {
		wsb_err_set(err, WSB_EXIT_USAGE, "filter longer than %d bytes", WSB_FILTER_MAX);
		return NULL;
	}
	/* A dead program is shared too: its newcomers are dropped at their
	 * first message instead of paying its budget again. */
	for (f = F->list; f; f = f->next)
		if (!strcmp(f->text, text)) {
			f->refs++;
			return f;
		}
	if (!(f = calloc(1, sizeof *f)) || !(f->text = strdup(text))) {
		free(f);
		wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
		return NULL;
	}
	if ((f->id = wsb_jqproc_compile(F->jp, text, err)) < 0) {
		if (err->code != WSB_EXIT_USAGE)
			wsb_log(WSB_LOG_ERROR, "filter not compiled: %s", err->msg);
		free(f->text);
		free(f);
		return NULL;
	}
	f->refs = 1;
	f->next = F->list;
	F->list = f;
	F->st.programs++;
	return f;
}

static void filter_close(void *ud, void *h)
{
	struct serve_filters *F = ((struct serve *)ud)->filters;
	struct filt *f = h, **pp;

	if (--f->refs)
		return;
	for (pp = &F->list; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	if (!f->dead)
		F->st.programs--;
	wsb_jqproc_drop(F->jp, f->id);
	free(f->text);
	free(f);
}

static int reserve(struct serve_filters *F, size_t n)
{
	void **const p[] = { (void **)&F->uniq, (void **)&F->ids, (void **)&F->res };
	const size_t elem[] = { sizeof *F->uniq, sizeof *F->ids, sizeof *F->res };

	if (n <= F->cap)
		return 0;
	if (wsb_grow_each(p, elem, 3, n))
		return -1;
	F->cap = n;
	return 0;
}

/* What the worker said about the distinct programs, counted. */
static void tally(struct serve_filters *F, size_t k)
{
	for (size_t j = 0; j < k; j++) {
		struct filt *f = F->uniq[j];

		F->st.evaluations++;
		if (F->res[j] == WSB_JQP_ERROR)
			F->st.errors++;
		if (F->res[j] == WSB_JQP_OVER && !f->dead) {
			char text[200 * 6 + 3];

			f->dead = 1;
			F->st.programs--;
			F->st.dropped++;
			/* The text is the client's: escaped, it cannot forge log lines. */
			wsb_json_escape(text, sizeof text, f->text, strnlen(f->text, 200));
			wsb_log(WSB_LOG_WARN, "filter dropped (over --filter-time or --filter-memory), %llu "
				"subscriber%s: %s", (unsigned long long)f->refs, f->refs == 1 ? "" : "s", text);
		}
	}
}

static void filter_eval(void *ud, const char *msg, size_t len, void *const *fs, size_t n, signed char *res)
{
	struct serve_filters *F = ((struct serve *)ud)->filters;
	struct wsb_err err = { 0 };
	size_t k = 0;

	memset(res, 0, n);
	if (reserve(F, n)) {
		wsb_log(WSB_LOG_ERROR, "out of memory: a message was not offered to %zu filtered subscribers", n);
		return;
	}
	F->call++;
	for (size_t i = 0; i < n; i++) {
		struct filt *f = fs[i];

		if (f->call != F->call) {
			f->call = F->call;
			f->slot = k;
			F->uniq[k] = f;
			F->ids[k++] = f->id;
		}
	}
	if (wsb_jqproc_test(F->jp, msg, len, F->ids, k, F->res, &err) < 0) {
		if (!F->failing)
			wsb_log(WSB_LOG_ERROR, "filters cannot run: %s", err.msg);
		F->failing = 1;
	} else {
		F->failing = 0;
	}
	tally(F, k);
	for (size_t i = 0; i < n; i++) {
		unsigned char r = F->res[((struct filt *)fs[i])->slot];

		res[i] = r == WSB_JQP_TRUE ? 1 : r == WSB_JQP_OVER ? -1 : 0;
	}
}

int serve_filters_init(struct serve *sv, struct wsb_err *err)
{
	const struct wsb_cfg *cfg = sv->cfg;
	/* The worker is killed when an answer is this late: beyond any CPU
	 * budget, a program stuck in one C call (the budget cannot cut it). */
	struct wsb_jqproc_cfg jc = { .cpu = cfg->filter_time, .mem = cfg->filter_memory,
				     .wait = 1 + 4 * cfg->filter_time };

	if (!(sv->filters = calloc(1, sizeof *sv->filters)) || !(sv->filters->jp = wsb_jqproc_new(&jc))) {
		free(sv->filters);
		sv->filters = NULL;
		return wsb_err_set(err, WSB_EXIT_OSERR, "out of memory");
	}
	return 0;
}

void serve_filters_free(struct serve *sv)
{
	struct serve_filters *F = sv->filters;

	if (!F)
		return;
	while (F->list) {
		struct filt *f = F->list;

		F->list = f->next;
		free(f->text);
		free(f);
	}
	wsb_jqproc_free(F->jp);
	free(F->uniq);
	free(F->ids);
	free(F->res);
	free(F);
	sv->filters = NULL;
}

void serve_filters_hooks(struct serve *sv, struct wsb_broker_hooks *hooks)
{
	hooks->filter_open = filter_open;
	hooks->filter_close = filter_close;
	hooks->filter_eval = filter_eval;
}

void serve_filters_stats(const struct serve *sv, struct serve_filter_stats *st)
{
	struct wsb_jqproc_stats js;
	const struct filt *f;

	*st = sv->filters->st;
	st->subscribers = 0;
	for (f = sv->filters->list; f; f = f->next)
		st->subscribers += f->refs;
	wsb_jqproc_stats(sv->filters->jp, &js);
	st->restarts = js.restarts;
}
