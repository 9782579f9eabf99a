/* console: GET / content negotiation and the embedded files. */
#define T_SUITE "console"
#include "t.h"

#include "console.h"

/* What real clients send: the page only for a browser's navigation. */
static void test_accept_clients(void)
{
	/* Chromium and Firefox navigations */
	T_CHECK(wsb_console_wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,"
				       "image/avif,image/webp,image/apng,*/*;q=0.8,"
				       "application/signed-exchange;v=b3;q=0.7"));
	T_CHECK(wsb_console_wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
	/* curl, wget, Python, a missing header, fetch() with a JSON ask */
	T_CHECK(!wsb_console_wants_html("*/*"));
	T_CHECK(!wsb_console_wants_html(NULL));
	T_CHECK(!wsb_console_wants_html(""));
	T_CHECK(!wsb_console_wants_html("application/json"));
	T_CHECK(!wsb_console_wants_html("application/json, text/plain, */*"));
}

static void test_accept_q(void)
{
	T_CHECK(wsb_console_wants_html("text/*"));
	T_CHECK(wsb_console_wants_html("TEXT/HTML"));
	T_CHECK(wsb_console_wants_html("application/json;q=0.5, text/html"));
	T_CHECK(wsb_console_wants_html("text/html;q=0.25, application/json;q=0.2"));
	T_CHECK(wsb_console_wants_html("text/html ; q=1.0"));
	/* a tie or JSON ahead goes to JSON; q=0 means "not this" */
	T_CHECK(!wsb_console_wants_html("text/html, application/json"));
	T_CHECK(!wsb_console_wants_html("text/html;q=0.5, application/json"));
	T_CHECK(!wsb_console_wants_html("text/html;q=0, */*"));
	T_CHECK(!wsb_console_wants_html("text/html;q=0.000"));
	/* the any-type range alone never names HTML; text/htmlx is not text/html */
	T_CHECK(!wsb_console_wants_html("*/*;q=0.9, application/json;q=0.1"));
	T_CHECK(!wsb_console_wants_html("text/htmlx"));
	T_CHECK(!wsb_console_wants_html("text/htm"));
	T_CHECK(!wsb_console_wants_html(",,;;q=,text"));
}

static void test_files(void)
{
	const char *ct = NULL;
	const struct wsb_embedded *page = wsb_console_file("/console", &ct);

	T_CHECK(page && page->len > 1000 && page->data[page->len] == '\0');
	T_CHECK(page && strstr((const char *)page->data, "<!doctype html>") == (const char *)page->data);
	T_STREQ(ct, "text/html; charset=utf-8");
	T_CHECK(wsb_console_file("/wsbridge.js", &ct) != NULL);
	T_STREQ(ct, "text/javascript; charset=utf-8");
	T_CHECK(strstr((const char *)wsb_console_file("/wsbridge.js", &ct)->data, "export function connect("));
	T_CHECK(!wsb_console_file("/", &ct));
	T_CHECK(!wsb_console_file("/console.html", &ct));
	T_CHECK(!wsb_console_file("/wsbridge.js/", &ct));
}

int main(void)
{
	T_RUN(test_accept_clients);
	T_RUN(test_accept_q);
	T_RUN(test_files);
	return t_done();
}
