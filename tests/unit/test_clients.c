#define T_SUITE "clients"
#include "t.h"

#include "clients.h"

/* Secrets never reach GET /clients; what does not fit is marked. */
static void test_query_without_secrets(void)
{
	char q[40] = "";

	wsb_clients_query_add(q, sizeof q, "type=a*");
	wsb_clients_query_add(q, sizeof q, "token=s3cret");
	wsb_clients_query_add(q, sizeof q, "producer_secret=abc");
	wsb_clients_query_add(q, sizeof q, "access_token=x");
	wsb_clients_query_add(q, sizeof q, "echo=1");
	T_STREQ(q, "type=a*&echo=1");
	wsb_clients_query_add(q, sizeof q, "type=a-very-long-pattern-indeed");
	T_STREQ(q, "type=a*&echo=1...");
	wsb_clients_query_add(q, sizeof q, "type=another-long-one-too-long");
	T_STREQ(q, "type=a*&echo=1...");
}

int main(void)
{
	T_RUN(test_query_without_secrets);
	return t_done();
}
