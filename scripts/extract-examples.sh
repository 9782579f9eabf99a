#!/usr/bin/env bash
# extract-examples.sh — every shell example of the docs, one file each, so
# tests/integration/91-doc-examples.sh can run them.
#
# Where examples are:
#   README.md            each fenced block opened with ```sh
#   docs/man/*.in        each .nf ... .fi display in the EXAMPLES section
#                        (the templates, not the generated pages: their
#                        comment lines carry the directives below)
#
# Directives, hidden from the reader, say how an example runs; they sit just
# before the block (README: <!-- example: ... --> lines right above the
# fence; man: .\" example: ... lines after the previous display):
#
#   no-run: WHY      not run; WHY is required (runs a make target, needs a
#                    real certificate, listens on every interface, ...)
#   status: N        the exit status it must end with (default 0)
#   until: SHELL     for an example that runs until interrupted: a
#                    condition, run in the example's folder and environment
#                    ($EXAMPLE_OUT: what it wrote so far, stdout and stderr
#                    together); it passes, and is stopped, once that holds
#   check: SHELL     a condition that must hold once the example has ended
#   terminals        each command line is one terminal, started in order,
#                    all but the last in the background, each once it is up
#                    (a broker answers, a client is connected); a "make
#                    serve" line stands for the broker the test starts
#   tty              run on a pseudo-terminal, as a reader typing it would
#   feed             a publisher sends orders, ticks, positions and equity
#                    updates to the broker while the example runs
#   timeout: SECS    how long it may take (default 20)
#
#   scripts/extract-examples.sh OUTDIR [FILE...]
#       writes OUTDIR/NNN.sh (the commands, roff escapes undone) and
#       OUTDIR/NNN.meta ("source FILE:LINE", then one directive a line);
#       FILEs default to README.md and docs/man/*.in. Exit 1 on a malformed
#       directive, with its place.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
"" | -h | --help) sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"; [ -n "${1:-}" ]; exit ;;
esac
out=$1
shift
[ $# -gt 0 ] || set -- "$root/README.md" "$root"/docs/man/*.in
mkdir -p "$out"

awk -v out="$out" -v root="$root/" '
# Undo the roff escapes an example uses; anything else is left as written.
function unroff(s,    o, c, i, n) {
	o = ""; n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c != "\\") { o = o c; continue }
		c = substr(s, i + 1, 1)
		if (c == "-" || c == "e") { o = o (c == "e" ? "\\" : "-"); i++ }
		else if (c == "&") i++
		else if (c == "(") {
			c = substr(s, i + 2, 2); i += 3
			o = o (c == "aq" ? "\047" : c == "dq" ? "\"" : c == "ti" ? "~" : c == "ha" ? "^" : c == "rs" ? "\\" : "\\(" c)
		} else o = o "\\"
	}
	return o
}
function directive(d, where) {
	sub(/^[ \t]+/, "", d); sub(/[ \t]+$/, "", d)
	if (d ~ /^no-run: *[^ ]/ || d ~ /^status: *[0-9]+$/ || d ~ /^until: *[^ ]/ || d ~ /^check: *[^ ]/ || d ~ /^timeout: *[0-9]+$/ ||
	    d == "terminals" || d == "tty" || d == "feed") { pending = pending d "\n"; return }
	printf "%s: malformed example directive: %s\n", where, d > "/dev/stderr"; bad = 1
}
function start(where) { n++; body = ""; src = where; inblock = 1 }
function finish(    f) {
	f = sprintf("%s/%03d", out, n)
	printf "%s", body > (f ".sh"); close(f ".sh")
	printf "source: %s\n%s", src, pending > (f ".meta"); close(f ".meta")
	pending = ""; inblock = 0
}
FNR == 1 { file = substr(FILENAME, 1, length(root)) == root ? substr(FILENAME, length(root) + 1) : FILENAME
	   man = FILENAME ~ /\.in$/; fence = 0; ex = 0; pending = ""; inblock = 0 }
# README.md
!man && !fence && /^<!-- example:.*-->$/ {
	d = $0; sub(/^<!-- example:/, "", d); sub(/-->$/, "", d); directive(d, file ":" FNR); next
}
!man && /^```/ {
	if (inblock) { finish(); fence = 0; next }
	if (fence) { fence = 0; next }
	fence = 1
	if ($0 == "```sh") start(file ":" FNR + 1)
	else if (pending != "") { printf "%s:%d: example directive before a block that is not ```sh\n", file, FNR > "/dev/stderr"; bad = 1; pending = "" }
	next
}
!man && inblock { body = body $0 "\n"; next }
!man && !fence && pending != "" && NF { printf "%s:%d: example directive not right above a ```sh block\n", file, FNR > "/dev/stderr"; bad = 1; pending = "" }
# man page templates
man && /^\.SH / { ex = ($0 == ".SH EXAMPLES") }
man && ex && /^\.\\" example:/ { d = $0; sub(/^\.\\" example:/, "", d); directive(d, file ":" FNR); next }
man && ex && $0 == ".nf" { start(file ":" FNR + 1); next }
man && ex && inblock && $0 == ".fi" { finish(); next }
man && ex && inblock { body = body unroff($0) "\n"; next }
END { exit bad }
' "$@"
