#!/usr/bin/env bash
# The docs cannot drift from the binaries: generated man pages and
# completions match what scripts/gen-docs.sh makes from the built binaries,
# every page renders without warnings, every option --help shows is in that
# tool's man page and completions, and README lists every exit code.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$WSB_TESTS/.." && pwd)

if WSB_BIN=$WSB_BIN bash "$ROOT/scripts/gen-docs.sh" --check >"$T/check.out" 2>&1; then
	pass "gen-docs.sh --check: generated files are up to date"
else
	fail "gen-docs.sh --check" "run scripts/gen-docs.sh (make docs) and commit the result"
	head -n 60 "$T/check.out"
fi

tools=()
for b in "$WSB_BIN"/wsbridge-*; do [ -x "$b" ] && tools+=("$(basename "$b")"); done
[ ${#tools[@]} -gt 0 ] || fail "binaries" "none in $WSB_BIN"

pages=()
for t in "${tools[@]}"; do pages+=("$ROOT/docs/man/$t.1"); done
pages+=("$ROOT/docs/man/wsbridge.7")

for p in "${pages[@]}"; do
	name=$(basename "$p")
	if [ ! -f "$p" ]; then
		fail "$name exists"
		continue
	fi
	# signify.1 order: the sections a reader of any page can count on.
	missing=
	for sec in NAME SYNOPSIS DESCRIPTION '"EXIT STATUS"' EXAMPLES '"SEE ALSO"'; do
		[ "$name" = wsbridge.7 ] && case $sec in SYNOPSIS | EXAMPLES) continue ;; esac
		grep -qx "\.SH $sec" "$p" || grep -qx "\.SH ${sec//\"/}" "$p" || missing="$missing $sec"
	done
	[ "$name" != wsbridge.7 ] && ! grep -q '^\.SH OPTIONS' "$p" && missing="$missing OPTIONS"
	check_eq "$name has its sections" "${missing:-none missing}" "none missing"
	if command -v groff >/dev/null 2>&1; then
		groff -man -ww -z "$p" >"$T/groff.out" 2>&1
		check_eq "$name renders without groff warnings" "$(head -c 500 "$T/groff.out")" ""
	fi
	# What a reader sees: man-db's own warnings at a common terminal width
	# (an unbreakable line in a filled paragraph shows up only here).
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man --warnings -l "$p" 2>"$T/man.out" >/dev/null
		check_eq "$name renders at 80 columns without man warnings" "$(head -c 500 "$T/man.out")" ""
	else
		fail "$name renders at 80 columns without man warnings" "man-db is not installed (scripts/install-deps.sh check)"
	fi
	# Text right after an indented display (.RE) runs into it with no
	# blank line; every display ends with .PP (or a new section).
	glued=$(awk 'prev == ".RE" && $0 !~ /^\./ { print FILENAME ":" NR ": " $0; exit } { prev = $0 }' "$p")
	check_eq "$name: a paragraph after a display starts with .PP" "${glued:-none}" "none"
	grep -q '@[A-Z_]*@' "$p" && fail "$name has no unexpanded placeholder" "$(grep -m1 '@[A-Z_]*@' "$p")"
done

# Every option --help prints (long and short) in the man page and in the
# bash, zsh and fish completions of the same tool.
for t in "${tools[@]}"; do
	"$WSB_BIN/$t" --help >"$T/$t.help"
	# option lines only: a wrapped help line goes on under the text column
	longs=$(sed -n '/^Options:/,/^$/p' "$T/$t.help" | grep -oE '^  (-[A-Za-z], |    )--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+')
	shorts=$(sed -n '/^Options:/,/^$/p' "$T/$t.help" | grep -oE '^  -[A-Za-z],' | tr -d ' ,')
	[ -n "$longs" ] || fail "$t --help lists options"
	man_miss= bash_miss= zsh_miss= fish_miss=
	for o in $longs; do
		n=${o#--}
		grep -qF -- "\\fB\\-\\-${n//-/\\-}\\fR" "$ROOT/docs/man/$t.1" 2>/dev/null || man_miss="$man_miss $o"
		# the tool's own block in the bash file: from "<tool>)" to its ";;"
		sed -n "/^	$t)/,/^		;;/p" "$ROOT/completions/wsbridge.bash" | grep -q -- "[' ]$o[' ]" || bash_miss="$bash_miss $o"
		sed -n "/^$t)/,/^	;;/p" "$ROOT/completions/_wsbridge" | grep -qE -- "$o[=\[,}]" || zsh_miss="$zsh_miss $o"
		grep -qE -- "^complete -c $t( -s .)? -l $n " "$ROOT/completions/wsbridge.fish" || fish_miss="$fish_miss $o"
	done
	for o in $shorts; do
		grep -qF -- "\\fB\\-${o#-}\\fR, " "$ROOT/docs/man/$t.1" 2>/dev/null || man_miss="$man_miss $o"
	done
	check_eq "$t: every --help option is in $t.1" "${man_miss:-none missing}" "none missing"
	check_eq "$t: every --help option is in wsbridge.bash" "${bash_miss:-none missing}" "none missing"
	check_eq "$t: every --help option is in _wsbridge" "${zsh_miss:-none missing}" "none missing"
	check_eq "$t: every --help option is in wsbridge.fish" "${fish_miss:-none missing}" "none missing"
done

# The bash completion works, not just mentions the options.
cat >"$T/complete.sh" <<'EOF'
. "$1"
comp() { COMP_WORDS=("${@:2}"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _wsbridge_complete; echo "$1: ${COMPREPLY[*]}"; }
comp sub wsbridge-sub --cou
comp serve /usr/local/bin/wsbridge-serve --log-format ''
comp serve-eq wsbridge-serve --log-format = j
EOF
bash "$T/complete.sh" "$ROOT/completions/wsbridge.bash" >"$T/complete.out" 2>&1
grep -qx 'sub: --count' "$T/complete.out" && check "bash completes a long option" true ||
	fail "bash completes a long option" "$(cat "$T/complete.out")"
if printf '%s\n' "${tools[@]}" | grep -qx wsbridge-serve; then
	check_eq "bash completes enum choices" "$(sed -n 's/^serve: //p' "$T/complete.out")" "text json"
	check_eq "bash completes --opt=choice" "$(sed -n 's/^serve-eq: //p' "$T/complete.out")" "json"
fi

# The NAME line of every page is the --help summary (gen-docs.sh fills
# @NAME@), so the whatis line and --help cannot say different things.
for t in "${tools[@]}"; do
	check_eq "$t.1.in takes its NAME line from --help" \
		"$(sed -n '/^\.SH NAME$/{n;p}' "$ROOT/docs/man/$t.1.in")" "@NAME@"
	summary=$("$WSB_BIN/$t" --help | sed -n '2{s/\.$//;p}')
	check_eq "$t.1 NAME is the --help summary" \
		"$(sed -n '/^\.SH NAME$/{n;p}' "$ROOT/docs/man/$t.1" | sed 's/\\-/-/g')" "$t - $summary"
done

# README's exit-code table has a row for every code any binary can return.
for t in "${tools[@]}"; do "$WSB_BIN/$t" --dump-exit-codes; done | sort -n -u -k1,1 >"$T/exit-codes"
miss=
while IFS=$'\t' read -r code _; do
	grep -qE "^\| *\`?$code\`? *\|" "$ROOT/README.md" || miss="$miss $code"
done <"$T/exit-codes"
check_eq "README lists every exit code" "${miss:-none missing}" "none missing"
finish
