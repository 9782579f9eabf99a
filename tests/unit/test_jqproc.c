#define T_SUITE "jqproc"
#include "t.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "jqproc.h"

static const char msg[] = "{\"type\":\"order\",\"data\":{\"qty\":5}}";

static struct wsb_jqproc *proc(void)
{
	struct wsb_jqproc_cfg cfg = { .cpu = 0.05, .mem = 64 << 20, .wait = 5 };

	return wsb_jqproc_new(&cfg);
}

static void test_compile(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqproc *p = proc();
	struct wsb_jqproc_stats st;
	int a = wsb_jqproc_compile(p, ".data.qty > 3", &e);

	T_CHECK(a >= 0);
	T_CHECK(wsb_jqproc_compile(p, ".data.qty >", &e) == -1);
	T_CHECK(e.code == WSB_EXIT_USAGE && strstr(e.msg, "syntax error") && strstr(e.msg, "line 1"));
	/* the sandbox is the worker's: no environment, no modules */
	T_CHECK(wsb_jqproc_compile(p, "import \"x\" as x; .", &e) == -1 && e.code == WSB_EXIT_USAGE);
	wsb_jqproc_stats(p, &st);
	T_CHECK(st.programs == 1 && st.restarts == 0 && st.pid > 0);
	wsb_jqproc_free(p);
}

static void test_results(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqproc *p = proc();
	int ids[4];
	unsigned char res[4];

	ids[0] = wsb_jqproc_compile(p, ".data.qty > 3", &e);
	ids[1] = wsb_jqproc_compile(p, ".data.qty > 9", &e);
	ids[2] = wsb_jqproc_compile(p, ".data.qty | test(\"x\")", &e);	/* a runtime error */
	ids[3] = wsb_jqproc_compile(p, "$ENV | length == 0 and (env | length) == 0", &e);
	T_CHECK(ids[0] >= 0 && ids[1] >= 0 && ids[2] >= 0 && ids[3] >= 0);
	T_CHECK(wsb_jqproc_test(p, msg, strlen(msg), ids, 4, res, &e) == 0);
	T_CHECK(res[0] == WSB_JQP_TRUE && res[1] == WSB_JQP_FALSE && res[2] == WSB_JQP_ERROR &&
		res[3] == WSB_JQP_TRUE);
	/* too big to parse within the worker's memory: an error, not a drop */
	{
		size_t big = (64 << 20) / 16 + 16;
		char *m = malloc(big);

		memset(m, ' ', big);
		memcpy(m, msg, strlen(msg));
		T_CHECK(wsb_jqproc_test(p, m, big, ids, 1, res, &e) == 0 && res[0] == WSB_JQP_ERROR);
		free(m);
	}
	/* a dropped id is dead: answered without the worker */
	wsb_jqproc_drop(p, ids[1]);
	T_CHECK(wsb_jqproc_test(p, msg, strlen(msg), ids, 2, res, &e) == 0);
	T_CHECK(res[0] == WSB_JQP_TRUE && res[1] == WSB_JQP_OVER);
	wsb_jqproc_free(p);
}

/* A loop is cut by the CPU budget inside the worker; a memory bomb kills
 * the worker, which is replaced with the live programs compiled again. */
static void test_budgets(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqproc *p = proc();
	struct wsb_jqproc_stats st;
	int ids[3];
	unsigned char res[3];

	ids[0] = wsb_jqproc_compile(p, ".data.qty > 3", &e);
	ids[1] = wsb_jqproc_compile(p, "last(range(1e12)) > 0", &e);
	ids[2] = wsb_jqproc_compile(p, "(\"x\" * 1e9 | length) > 0", &e);
	T_CHECK(wsb_jqproc_test(p, msg, strlen(msg), ids, 2, res, &e) == 0);
	T_CHECK(res[0] == WSB_JQP_TRUE && res[1] == WSB_JQP_OVER);
	wsb_jqproc_stats(p, &st);
	T_CHECK(st.restarts == 0 && st.programs == 2);
	/* the bomb between two good ones: both still answered */
	ids[1] = ids[2];
	ids[2] = ids[0];
	T_CHECK(wsb_jqproc_test(p, msg, strlen(msg), ids, 3, res, &e) == 0);
	T_CHECK(res[0] == WSB_JQP_TRUE && res[1] == WSB_JQP_OVER && res[2] == WSB_JQP_TRUE);
	wsb_jqproc_stats(p, &st);
	T_CHECK(st.restarts == 1 && st.programs == 1);
	wsb_jqproc_free(p);
}

static void test_worker_lost(void)
{
	struct wsb_err e = { 0 };
	struct wsb_jqproc *p = proc();
	struct wsb_jqproc_stats st;
	int id = wsb_jqproc_compile(p, ".data.qty == 5", &e);
	unsigned char r = 9;

	wsb_jqproc_stats(p, &st);
	kill(st.pid, SIGKILL);
	waitpid(st.pid, NULL, 0);
	/* Gone before it was asked: not the program's fault. A new worker
	 * with the program compiled again answers. */
	T_CHECK(wsb_jqproc_test(p, msg, strlen(msg), &id, 1, &r, &e) == 0 && r == WSB_JQP_TRUE);
	wsb_jqproc_stats(p, &st);
	T_CHECK(st.restarts == 1 && st.programs == 1 && st.pid > 0);
	wsb_jqproc_free(p);
}

int main(void)
{
	int w = wsb_jqproc_child();

	if (w >= 0)
		return w;
	T_RUN(test_compile);
	T_RUN(test_results);
	T_RUN(test_budgets);
	T_RUN(test_worker_lost);
	return t_done();
}
