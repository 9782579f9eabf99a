#!/usr/bin/env bash
# ?token= is found wherever it is in the query (issue 7 finding 14, last
# item): after an argument longer than the token buffer, before or after
# other arguments; a wrong or missing one is still 401.
. "$(dirname "$0")/../lib.sh"

start_serve --token S3CRET || { fail "serve starts"; finish; }
pyrun 30 - "$PORT" <<'PYEOF'
import sys
from rawws import *
port = int(sys.argv[1])
pad = "pad=" + "x" * 1500
for name, query, want in [
    ("token first", "token=S3CRET&" + pad, 101),
    ("token after a 1500-byte argument", pad + "&token=S3CRET", 101),
    ("token after two long arguments", pad + "&" + pad + "&echo=1&token=S3CRET", 101),
    ("long argument then a wrong token", pad + "&token=nope", 401),
    ("long argument and no token", pad + "&echo=1", 401),
]:
    s, st, _, _ = handshake(port, path="/ws?" + query)
    check(name, st == want, "status %s" % st)
    s.close()
done()
PYEOF
finish
