#!/usr/bin/env bash
# The console over plain HTTP: GET / gives the page only to a browser (an
# Accept that prefers text/html) and JSON to curl and scripts, with
# "Vary: Accept"; /console and /wsbridge.js always; read-only (405); the
# page is locked to its own origin by its CSP; --no-console turns all of it
# off; --console-publish shows in / as a feature; the console's paths cannot
# be --path. (The page itself, in a browser: 46-48.)
. "$(dirname "$0")/../lib.sh"
BROWSER='text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'

start_serve || { fail "serve starts"; finish; }
curl -s -D "$T/root.h" -o "$T/root.json" "$HTTP_URL/"
check "curl / still gets JSON" jq -e '.name == "wsbridge-serve" and .endpoints.websocket == "/ws"' "$T/root.json"
check "/ JSON names the console and the client" \
	jq -e '.endpoints.console == "/console" and .endpoints.client == "/wsbridge.js"' "$T/root.json"
check "/ JSON: no token needed, the filter feature" jq -e '.auth == "none" and .features == ["filter"]' "$T/root.json"
check "/ answers vary: accept (a cache must not hand the page to curl)" grep -qi '^vary: accept' "$T/root.h"
curl -s -H 'Accept: application/json' "$HTTP_URL/" | jq -e .endpoints >/dev/null
check_eq "Accept: application/json gets JSON" "$?" 0

curl -s -D "$T/page.h" -o "$T/page.html" -H "Accept: $BROWSER" "$HTTP_URL/"
check "a browser's Accept gets the page at /" grep -q '^<!doctype html>' "$T/page.html"
check "as text/html" grep -qi '^content-type: text/html; charset=utf-8' "$T/page.h"
check "the page is its source file, byte for byte" cmp -s "$T/page.html" "$WSB_TESTS/../cmd/wsbridge-serve/console.html"
check "its CSP keeps it to its own origin and out of frames" \
	grep -qi "^content-security-policy: default-src 'none'.*connect-src 'self' ws: wss:.*frame-ancestors 'none'" "$T/page.h"
check "no Referer leaks a ?token=" grep -qi '^referrer-policy: no-referrer' "$T/page.h"
check "no CDN, no external font or script" bash -c "! grep -Eq '(src|href)=\"(https?:)?//|@import|url\\(' '$T/page.html'"
curl -s -o "$T/console.html" "$HTTP_URL/console"
check "/console gives the page to anyone (curl too)" cmp -s "$T/console.html" "$T/page.html"
curl -s -D "$T/js.h" -o "$T/wsbridge.js" "$HTTP_URL/wsbridge.js"
check "/wsbridge.js is the client module" grep -q '^export function connect(url, opts = {})' "$T/wsbridge.js"
check "as JavaScript" grep -qi '^content-type: text/javascript' "$T/js.h"
check "importable by a dashboard served elsewhere (CORS)" grep -qi '^access-control-allow-origin: \*' "$T/js.h"
check_eq "HEAD /console: headers, no body" "$(curl -s -I -o /dev/null -w '%{http_code}' "$HTTP_URL/console")" 200
check_eq "POST /console is 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HTTP_URL/console")" 405
check_eq "POST / with a browser's Accept is 405" \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Accept: $BROWSER" "$HTTP_URL/")" 405
check_eq "/console/ is not the page" "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/console/")" 404
stop $SERVE_PID

start_serve --no-console || { fail "serve --no-console starts"; finish; }
curl -s -o "$T/off.json" -H "Accept: $BROWSER" "$HTTP_URL/"
check "--no-console: a browser gets JSON at /" jq -e '.endpoints.console == null' "$T/off.json"
check_eq "--no-console: /console is 404" "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/console")" 404
check_eq "--no-console: /wsbridge.js is 404" "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/wsbridge.js")" 404
stop $SERVE_PID

start_serve --console-publish --token s3cret || { fail "serve --console-publish --token starts"; finish; }
check "/ JSON: a token is needed, the publish box is on" \
	bash -c "curl -s '$HTTP_URL/' | jq -e '.auth == \"token\" and .features == [\"filter\", \"console-publish\"]'"
check "the page needs no token (it holds no data)" \
	bash -c "curl -sf '$HTTP_URL/console' | grep -q '^<!doctype html>'"
stop $SERVE_PID

"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --no-console --console-publish 2>"$T/both.err"
check_eq "--console-publish with --no-console is a usage error" "$?" 64
"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --path /console 2>"$T/path.err"
check_eq "--path /console is a usage error" "$?" 64
check "and says why" grep -q "console" "$T/path.err"
finish
