#!/usr/bin/env bash
# gen-docs.sh — man pages and shell completions from the option table.
#
# Each built binary in $WSB_BIN (default bin/) describes itself: the hidden
# --dump-options prints its rows of the option table (lib/options.c),
# --dump-exit-codes its rows of the shared exit-code table (lib/err.c:
# code, name, the meaning in the tool's words, the general meaning),
# --version the version. The prose lives in hand-written templates,
# docs/man/NAME.1.in and docs/man/wsbridge.7.in, whose placeholder lines are
# replaced:
#
#   @NAME@         "tool \- summary", the summary line of --help (own line)
#   @SYNOPSIS@     the usage line of --help         (own line)
#   @OPTIONS@      every option, default and env    (own line)
#   @ENVIRONMENT@  the variables of the env column  (own line)
#   @EXIT_STATUS@  the tool's exit codes; in wsbridge(7) every tool's (own line)
#   @VERSION@      anywhere
#
# Completions for bash, zsh and fish come from the same rows, so help, man
# pages and completions cannot drift apart. The outputs are committed (a
# reader needs no build to read them); --check regenerates them into a
# temporary folder and fails with a diff when the committed ones differ.
# A template whose binary is not built yet is skipped; a built binary
# without a template is an error.
#
#   scripts/gen-docs.sh            write docs/man/*.1, docs/man/wsbridge.7, completions/*
#   scripts/gen-docs.sh --check    exit 1 with a diff if any of them is stale, else 0
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${WSB_BIN:-$root/bin}
mode=write
case ${1:-} in
--check) mode=check ;;
"") ;;
-h | --help) sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
*) echo "gen-docs.sh: unknown argument '$1' (use --check or nothing)" >&2; exit 64 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/wsb-gen-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ "$mode" = check ]; then out=$work/out; else out=$root; fi
mkdir -p "$out/docs/man" "$out/completions" "$work/t"

die() { echo "gen-docs.sh: $*" >&2; exit 1; }

# The tools that are built, in a stable order.
tools=()
for b in "$bindir"/wsbridge-*; do
	[ -f "$b" ] && [ -x "$b" ] && tools+=("$(basename "$b")")
done
[ ${#tools[@]} -gt 0 ] || die "no wsbridge-* binaries in $bindir (run make first)"
mapfile -t tools < <(printf '%s\n' "${tools[@]}" | LC_ALL=C sort)

errors=0
version=
for t in "${tools[@]}"; do
	b=$bindir/$t
	"$b" --dump-options >"$work/t/$t.opts" || die "$t --dump-options failed"
	"$b" --help >"$work/t/$t.help"
	sed -n 's/^Usage: //p' "$work/t/$t.help" | head -n 1 >"$work/t/$t.usage"
	sed -n '2{s/\.$//;p}' "$work/t/$t.help" >"$work/t/$t.summary"
	"$b" --dump-exit-codes >"$work/t/$t.exit-codes" || die "$t --dump-exit-codes failed"
	v=$("$b" --version | awk '{ print $NF; exit }')
	[ -n "$version" ] || version=$v
	[ "$v" = "$version" ] || die "$t is version $v but ${tools[0]} is $version: rebuild"
	[ -s "$work/t/$t.opts" ] && [ -s "$work/t/$t.usage" ] && [ -s "$work/t/$t.summary" ] &&
		[ -s "$work/t/$t.exit-codes" ] || die "$t printed no option table, usage, summary or exit codes"
done
# wsbridge(7) lists every code any tool can return.
sort -t "$(printf '\t')" -k1,1n -u "$work"/t/*.exit-codes >"$work/t/exit-codes"

# ---- roff pieces -------------------------------------------------------

# Shared awk: roff() escapes text for a man(7) text line. A '-' that starts
# a word (an option, a negative number), every '-' in such a word, and the
# one in "wsbridge-NAME" are minus signs (\-) so they can be searched for and
# pasted; other hyphens (per-subscriber) stay hyphens.
awk_roff='
function roff(s,    o, i, c, p, n, word) {
	o = ""; p = " "; n = length(s); word = 0
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c !~ /[A-Za-z0-9_-]/) word = 0
		if (c == "\\") c = "\\e"
		else if (c == "-" && (word || p ~ /[ (\[{"=,|\/\047]/ || o ~ /wsbridge$/)) { c = "\\-"; word = 1 }
		o = o c; p = substr(s, i, 1)
	}
	if (o ~ /^[.\047]/) o = "\\&" o
	return o
}
function opt(s,    o, i, c) {	# an option name: every "-" is a minus
	o = ""
	for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); o = o (c == "-" ? "\\-" : c) }
	return o
}
function sentence(s) {
	if (s !~ /^wsbridge/) s = toupper(substr(s, 1, 1)) substr(s, 2)
	return s ~ /[.!?]$/ ? s : s "."
}
'

gen_name() {	# tool, summary file -> roff: the whatis line
	awk -v tool="$1" "$awk_roff"'{ print roff(tool) " \\- " roff($0) }' "$2"
}

gen_synopsis() {	# usage file -> roff
	awk "$awk_roff"'
	{
		print ".B " roff($1)
		line = ""
		for (i = 2; i <= NF; i++) {
			w = $i; pre = ""; post = ""
			if (w ~ /^\[/) { pre = "["; w = substr(w, 2) }
			if (w ~ /\]$/) { post = "]"; w = substr(w, 1, length(w) - 1) }
			if (w ~ /\.\.\.$/) { post = "\\&..." post; w = substr(w, 1, length(w) - 3) }
			line = line (line == "" ? "" : " ") pre "\\fI" roff(w) "\\fR" post
		}
		if (line != "") print line
	}' "$1"
}

gen_options() {	# opts file -> roff
	awk -F '\t' "$awk_roff"'
	{ n++; row[n] = $0; if ($4 == "size") size = 1; if ($4 == "seconds") secs = 1 }
	END {
		print "Long options take a value as \\fB\\-\\-name=value\\fR or \\fB\\-\\-name value\\fR;"
		print "short options may be bundled (\\fB\\-vv\\fR)."
		if (size) print "A size (\\fIBYTES\\fR) may end in k, M or G (powers of 1024)."
		if (secs) print "A duration (\\fISECS\\fR) may end in ms, s, m or h; a bare number is seconds."
		for (i = 1; i <= n; i++) {
			split(row[i], f, "\t")
			long = f[1]; short = f[2]; arg = f[3]; kind = f[4]
			choices = f[5]; dflt = f[6]; env = f[7]; help = f[8]
			print ".TP"
			head = (short != "-" ? "\\fB\\-" short "\\fR, " : "") "\\fB\\-\\-" opt(long) "\\fR"
			if (arg != "-") head = head " \\fI" roff(arg) "\\fR"
			print head
			text = sentence(roff(help))
			if (kind == "enum") {
				nc = split(choices, c, "|"); list = ""
				for (k = 1; k <= nc; k++)
					list = list (k == 1 ? "" : (k == nc ? " or " : ", ")) "\\fB" roff(c[k]) "\\fR"
				text = text "\nOne of " list (dflt != "-" ? "; default \\fB" roff(dflt) "\\fR" : "") "."
			} else if (dflt != "-" && kind != "flag" && kind != "count") {
				text = text "\nDefault: \\fB" roff(dflt) "\\fR."
			}
			if ((kind == "list" || kind == "count") && tolower(help) !~ /repeatable/)
				text = text "\nMay be given more than once."
			if (env != "-") text = text "\nAlso set by \\fB" env "\\fR."
			print text
		}
	}' "$1"
}

gen_environment() {	# opts file, tool -> roff
	awk -F '\t' -v tool="$2" "$awk_roff"'
	$7 != "-" {
		n++
		print ".TP"
		print ".B " $7
		print "Used as \\fB\\-\\-" opt($1) "\\fR when that option is not given."
	}
	END {
		if (n) print ".PP\nAn empty variable is ignored."
		else print "\\fB" roff(tool) "\\fR reads no environment variables of its own."
	}' "$1"
}

gen_exit_status() {	# exit-codes file [column: 3 the tool's words, 4 the general ones] -> roff
	awk -F '\t' -v col="${2:-3}" "$awk_roff"'
	{ print ".TP\n.B " $1; print sentence(roff($col)) }' "$1"
}

# expand TEMPLATE OUTPUT PIECES-DIR: placeholder lines become the pieces;
# the template's own comment lines (.\") are notes for its editors and
# are replaced by one line saying where the page comes from.
expand() {
	awk -v dir="$3" -v version="$version" -v tmpl="$1" -v rel="${1#"$root"/}" '
	function piece(name,    line, f) {
		f = dir "/" name
		while ((getline line < f) > 0) print line
		close(f)
	}
	NR == 1 { printf ".\\\" Generated by scripts/gen-docs.sh from %s; edit that file, not this one.\n", rel }
	/^\.\\"/ { next }
	/^@(NAME|SYNOPSIS|OPTIONS|ENVIRONMENT|EXIT_STATUS)@$/ {
		name = substr($0, 2, length($0) - 2)
		piece(name); next
	}
	{ gsub(/@VERSION@/, version) }
	/@[A-Z_]+@/ { printf "%s:%d: unknown placeholder in: %s\n", tmpl, NR, $0 > "/dev/stderr"; bad = 1 }
	{ print }
	END { exit bad }' "$1" >"$2"
}

for t in "${tools[@]}"; do
	tmpl=$root/docs/man/$t.1.in
	if [ ! -f "$tmpl" ]; then
		echo "gen-docs.sh: $t is built but has no template $tmpl" >&2
		errors=$((errors + 1))
		continue
	fi
	p=$work/t/$t.pieces
	mkdir -p "$p"
	gen_name "$t" "$work/t/$t.summary" >"$p/NAME"
	gen_synopsis "$work/t/$t.usage" >"$p/SYNOPSIS"
	gen_options "$work/t/$t.opts" >"$p/OPTIONS"
	gen_environment "$work/t/$t.opts" "$t" >"$p/ENVIRONMENT"
	gen_exit_status "$work/t/$t.exit-codes" >"$p/EXIT_STATUS"
	expand "$tmpl" "$out/docs/man/$t.1" "$p" || errors=$((errors + 1))
done

mkdir -p "$work/t/7"
gen_exit_status "$work/t/exit-codes" 4 >"$work/t/7/EXIT_STATUS"
[ -f "$root/docs/man/wsbridge.7.in" ] || die "docs/man/wsbridge.7.in is missing"
expand "$root/docs/man/wsbridge.7.in" "$out/docs/man/wsbridge.7" "$work/t/7" || errors=$((errors + 1))

# ---- completions -------------------------------------------------------
# One input stream for all three: "tool<TAB>row" lines, then per tool a
# "tool<TAB>@operands<TAB>files|none" line taken from the usage line.
for t in "${tools[@]}"; do
	sed "s/^/$t	/" "$work/t/$t.opts"
	if grep -q 'FILE' "$work/t/$t.usage"; then printf '%s\t@operands\tfiles\n' "$t"
	else printf '%s\t@operands\tnone\n' "$t"; fi
done >"$work/t/all"

# bash: one function for every tool, registered for each name.
awk -F '\t' '
function action(arg, kind, choices,    c) {
	if (kind == "enum") { c = choices; gsub(/\|/, " ", c); return "mapfile -t COMPREPLY < <(compgen -W \047" c "\047 -- \"$cur\")" }
	if (arg == "FILE") return "compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")"
	if (arg == "DIR") return "compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")"
	return ":"
}
$2 == "@operands" { files[$1] = ($3 == "files"); next }
{
	if (!($1 in seen)) { seen[$1] = 1; order[++nt] = $1 }
	opts[$1] = opts[$1] (opts[$1] == "" ? "" : " ") "--" $2
	if ($4 != "-") {
		pat = "--" $2 ($3 != "-" ? "|-" $3 : "")
		act = action($4, $5, $6)
		if (act == ":") free[$1] = free[$1] (free[$1] == "" ? "" : "|") pat	# a value to type
		else cases[$1] = cases[$1] "\t\t" pat ") " act "; return 0 ;;\n"
	}
}
END {
	names = ""
	for (i = 1; i <= nt; i++) names = names " " order[i]
	print "# bash completion for" names
	print "# Generated by scripts/gen-docs.sh from each binary'"'"'s --dump-options; do not edit."
	print "# One file serves every tool: install it (or a link) under each tool'"'"'s name."
	print ""
	print "_wsbridge_complete()"
	print "{"
	print "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= opts files=0"
	print "\t[ \"$COMP_CWORD\" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}"
	print "\t# --opt=value: bash splits the word at \"=\" (COMP_WORDBREAKS)."
	print "\tif [ \"$cur\" = \"=\" ]; then"
	print "\t\tcur="
	print "\telif [ \"$prev\" = \"=\" ] && [ \"$COMP_CWORD\" -gt 1 ]; then"
	print "\t\tprev=${COMP_WORDS[COMP_CWORD-2]}"
	print "\tfi"
	print "\tCOMPREPLY=()"
	print "\tcase ${COMP_WORDS[0]##*/} in"
	for (i = 1; i <= nt; i++) {
		t = order[i]
		print "\t" t ")"
		print "\t\topts=\047" opts[t] "\047"
		if (files[t]) print "\t\tfiles=1"
		print "\t\tcase $prev in"
		printf "%s", cases[t]
		if (free[t] != "") print "\t\t" free[t] ") return 0 ;;"
		print "\t\tesac"
		print "\t\t;;"
	}
	print "\t*) return 1 ;;"
	print "\tesac"
	print "\tif [[ $cur == -* ]]; then"
	print "\t\tmapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")"
	print "\telif [ \"$files\" = 1 ]; then"
	print "\t\tcompopt -o filenames 2>/dev/null"
	print "\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")"
	print "\tfi"
	print "\treturn 0"
	print "}"
	print "complete -F _wsbridge_complete" names
}' "$work/t/all" >"$out/completions/wsbridge.bash"

# zsh: #compdef names all five tools; a tool not built yet falls back to
# ordinary completion until it is.
awk -F '\t' '
function q(s) { gsub(/\047/, "\047\\\047\047", s); return s }		# inside single quotes
function desc(s) { gsub(/\\/, "\\\\\\\\", s); gsub(/\[/, "\\[", s); gsub(/\]/, "\\]", s); return q(s) }
function msg(s) { gsub(/:/, "\\:", s); return q(s) }
function action(arg, kind, choices,    c) {
	if (kind == "enum") { c = choices; gsub(/\|/, " ", c); return "(" c ")" }
	if (arg == "FILE") return "_files"
	if (arg == "DIR") return "_files -/"
	return " "
}
BEGIN { split("wsbridge-serve wsbridge-pub wsbridge-sub wsbridge-health wsbridge-replay", known, " ") }
$2 == "@operands" { files[$1] = ($3 == "files"); next }
{
	if (!($1 in seen)) { seen[$1] = 1; order[++nt] = $1 }
	long = $2; short = $3; arg = $4; kind = $5
	rep = (kind == "list" || kind == "count")
	ex = (long == "help" || long == "version") ? "(- *)" : (rep ? "*" : "")
	if (short != "-") {
		if (!rep && ex == "") ex = "(-" short " --" long ")"
		names = "{-" short (arg != "-" ? "+" : "") ",--" long (arg != "-" ? "=" : "") "}"
		spec = (ex != "" ? "\047" ex "\047" : "") names "\047[" desc($9) "]"
	} else {
		spec = "\047" ex "--" long (arg != "-" ? "=" : "") "[" desc($9) "]"
	}
	if (arg != "-") spec = spec ":" msg(arg) ":" q(action(arg, kind, $6))
	specs[$1] = specs[$1] " \\\n\t\t" spec "\047"
}
END {
	all = ""
	for (i = 1; i in known; i++) { all = all " " known[i]; isknown[known[i]] = 1 }
	for (i = 1; i <= nt; i++) if (!(order[i] in isknown)) all = all " " order[i]
	print "#compdef" all
	print "# zsh completion for the wsbridge tools."
	print "# Generated by scripts/gen-docs.sh from each binary'"'"'s --dump-options; do not edit."
	print ""
	print "case $service in"
	for (i = 1; i <= nt; i++) {
		t = order[i]
		print t ")"
		printf "\t_arguments -s -S%s", specs[t]
		if (files[t]) printf " \\\n\t\t\047*:file:_files\047"
		print "\n\t;;"
	}
	print "*)"
	print "\t_default"
	print "\t;;"
	print "esac"
}' "$work/t/all" >"$out/completions/_wsbridge"

# fish
awk -F '\t' '
function q(s) { gsub(/\\/, "\\\\\\\\", s); gsub(/\047/, "\\\047", s); return "\047" s "\047" }
$2 == "@operands" {
	files[$1] = ($3 == "files")
	if (!files[$1]) nofiles = nofiles "complete -c " $1 " -f\n"
	next
}
{
	if (!($1 in seen)) { seen[$1] = 1; order[++nt] = $1 }
	line = "complete -c " $1 (($3 != "-") ? " -s " $3 : "") " -l " $2
	if ($5 == "enum") { c = $6; gsub(/\|/, " ", c); line = line " -x -a " q(c) }
	else if ($4 == "FILE" || $4 == "DIR") line = line " -r -F"
	else if ($4 != "-") line = line " -x"
	rows[$1] = rows[$1] line " -d " q($9) "\n"
}
END {
	print "# fish completion for the wsbridge tools."
	print "# Generated by scripts/gen-docs.sh from each binary'"'"'s --dump-options; do not edit."
	printf "%s", nofiles
	for (i = 1; i <= nt; i++) printf "%s", rows[order[i]]
}' "$work/t/all" >"$out/completions/wsbridge.fish"

[ "$errors" -eq 0 ] || die "$errors error(s)"

if [ "$mode" = write ]; then
	echo "gen-docs.sh: wrote docs/man/{$(IFS=,; echo "${tools[*]}" | sed 's/wsbridge-//g')}.1, docs/man/wsbridge.7, completions/{wsbridge.bash,_wsbridge,wsbridge.fish}"
	exit 0
fi

stale=0
while IFS= read -r f; do
	rel=${f#"$out"/}
	if ! cmp -s "$f" "$root/$rel"; then
		if [ -f "$root/$rel" ]; then diff -u --label "$rel (committed)" --label "$rel (regenerated)" "$root/$rel" "$f" || true
		else echo "--- $rel is missing (not generated or not committed)"; fi
		stale=$((stale + 1))
	fi
done < <(find "$out" -type f | LC_ALL=C sort)
if [ "$stale" -gt 0 ]; then
	echo "gen-docs.sh: $stale generated file(s) differ; run scripts/gen-docs.sh (make docs) and commit them" >&2
	exit 1
fi
echo "gen-docs.sh: docs and completions are up to date (${tools[*]})"
