"""Test doubles for 40-health.sh: small servers that misbehave on purpose.

Each listens on 127.0.0.1 port 0, prints the port it bound as the first
line on stdout (flushed: the test polls for it), then serves until killed.

    health_doubles.py json BODY [STATUS]     HTTP: every GET answers BODY
    health_doubles.py silent                 TCP: accepts, never answers
    health_doubles.py https CERT KEY BODY    HTTPS: every GET answers BODY
    health_doubles.py ws BODY                one port: GET /health answers BODY over
                                             HTTP; /ws accepts the WebSocket and
                                             swallows every message (no pong, and a
                                             published canary never comes back)
    health_doubles.py freeport               prints a port nobody listens on, exits

Run with /usr/bin/python3 (Debian's, with python3-websockets 10.4).
"""
import asyncio
import http.server
import socket
import ssl
import sys


def announce(port):
    print(port, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    body = b"{}"
    status = 200

    def do_GET(self):
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, fmt, *args):
        pass


def serve_http(body, status=200, tls=None):
    Handler.body = body.encode()
    Handler.status = status
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    announce(srv.server_address[1])
    srv.serve_forever()


def serve_silent():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    announce(s.getsockname()[1])
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)	# keep it open, say nothing


def serve_ws(body):
    import websockets
    from http import HTTPStatus

    async def process_request(path, headers):
        if path.split("?")[0] == "/health":
            return HTTPStatus.OK, [("Content-Type", "application/json")], body.encode()
        return None

    async def handler(ws, path=None):
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass	# the probe gives up without a close frame: expected

    async def main():
        async with websockets.serve(handler, "127.0.0.1", 0, process_request=process_request,
                                    ping_interval=None) as srv:
            announce(srv.sockets[0].getsockname()[1])
            await asyncio.Future()

    asyncio.run(main())


def main():
    mode = sys.argv[1]
    if mode == "json":
        serve_http(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    elif mode == "https":
        serve_http(sys.argv[4], tls=(sys.argv[2], sys.argv[3]))
    elif mode == "silent":
        serve_silent()
    elif mode == "ws":
        serve_ws(sys.argv[2])
    elif mode == "freeport":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        announce(s.getsockname()[1])
        s.close()
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
