/* The client transport's input (wsclient.h: wsb_client_input): a
 * descriptor the tool reads in the same event loop as its connection, read
 * only when the tool has room for it. Beside wsclient.c, sharing
 * wsclient_int.h. */
#include "wsclient_int.h"

#include <errno.h>
#include <unistd.h>

#include "lwsglue.h"

/* Input: read when the tool has room, pause when it has none. After the
 * writer hangs up lws drops the (dup'ed) wsi even with bytes unread, so we
 * go on reading the original fd ourselves until EOF. */
static void read_input(struct wsb_client *c)
{
	for (;;) {
		size_t room = 0;
		char *p = c->ops->in_buf(c->ud, &room);
		ssize_t n;

		if (!p || !room) {
			if (c->in_wsi && !c->in_paused) {
				c->in_paused = 1;
				lws_rx_flow_control(c->in_wsi, 0);
			}
			return;
		}
		n = read(c->in_fd, p, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			c->in_eof = 1;
			c->ops->in_error(c->ud, errno);
			return;
		}
		if (n == 0)
			c->in_eof = 1;
		c->ops->in_data(c->ud, (size_t)n);
		if (n == 0 || !c->in_hup)
			return;		/* in the loop: one read per wakeup keeps sockets served */
	}
}

int wsb_client_in_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct wsb_client *c = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (c->in_eof || wsi != c->in_wsi)
			return -1;
		read_input(c);
		return c->in_eof ? -1 : 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi != c->in_wsi)
			return 0;
		c->in_wsi = NULL;
		if (!c->in_eof) {
			c->in_hup = 1;
			read_input(c);
		}
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (c->ops->signal) {
			int sig = wsb_lwsglue_signal();

			if (sig)
				c->ops->signal(c->ud, sig);
		}
		return 0;
	default:
		break;
	}
	return 0;
}

int wsb_client_input(struct wsb_client *c, int fd, struct wsb_err *err)
{
	lws_sock_file_fd_type u;
	int d = dup(fd);

	if (d < 0)
		return wsb_err_errno(err, WSB_EXIT_OSERR, errno, "dup");
	c->in_fd = fd;
	c->in_eof = c->in_hup = c->in_paused = 0;
	u.filefd = d;
	c->in_wsi = lws_adopt_descriptor_vhost(c->vh, LWS_ADOPT_RAW_FILE_DESC, u, "wsbridge-input", NULL);
	if (!c->in_wsi) {
		close(d);
		return wsb_err_set(err, WSB_EXIT_OSERR, "cannot watch input fd %d", fd);
	}
	return 0;
}

void wsb_client_input_resume(struct wsb_client *c)
{
	if (c->in_fd < 0 || c->in_eof)
		return;
	if (c->in_hup) {
		read_input(c);
		return;
	}
	if (c->in_wsi && c->in_paused) {
		c->in_paused = 0;
		lws_rx_flow_control(c->in_wsi, 1);
	}
}

