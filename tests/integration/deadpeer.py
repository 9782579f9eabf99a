# A WebSocket peer that completes the handshake, then never reads or answers
# pings: prints when the server closes it (test double for 15-dead-peer.sh).
import socket, sys, time, base64, os
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
t0 = time.time(); buf = b""
s.settimeout(15)
try:
    while True:
        d = s.recv(4096)
        if not d: print("closed by server after %.1fs" % (time.time() - t0)); break
        buf += d
except socket.timeout:
    print("still open after 15s")
print("got pings:", buf.count(b"\x89\x00"))
