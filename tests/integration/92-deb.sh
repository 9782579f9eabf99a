#!/usr/bin/env bash
# make deb: scripts/build-deb.sh builds the package from the binaries under
# test; it has a proper control file, md5sums that match, every file it
# promises (binaries, man pages, completions for three shells, the systemd
# unit, /etc/default/wsbridge-serve as a conffile, copyright and
# changelog.gz); apt can install it; unpacked into a scratch root with
# dpkg -x, its tools run from there: --version and a pub -> sub round trip
# through its broker; lintian finds no error in it.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$WSB_TESTS/.." && pwd)

if ! deb=$(bash "$ROOT/scripts/build-deb.sh" "$T/out" 2>"$T/build.err"); then
	fail "build-deb.sh builds the package" "$(head -c 600 "$T/build.err")"
	finish
fi
check "build-deb.sh builds $(basename "$deb")" test -s "$deb"
version=$("$WSB_BIN/wsbridge-serve" --version | awk '{ print $NF; exit }')
check_eq "file name: wsbridge_VERSION_ARCH.deb" "$(basename "$deb")" "wsbridge_${version}_$(dpkg --print-architecture).deb"

field() { dpkg-deb --field "$deb" "$1"; }
check_eq "control: Package" "$(field Package)" wsbridge
check_eq "control: Version is the binaries'" "$(field Version)" "$version"
check "control: Depends names libwebsockets and libjq (dpkg-shlibdeps)" \
	sh -c "dpkg-deb --field '$deb' Depends | grep -q 'libwebsockets.*libjq\|libjq.*libwebsockets'"
check "control: a Description with a long part" sh -c "dpkg-deb --field '$deb' Description | sed -n 2p | grep -q ."

dpkg-deb --contents "$deb" | awk '{ print $NF }' | sed 's#^\./#/#' >"$T/contents"
missing=
for f in /etc/default/wsbridge-serve /lib/systemd/system/wsbridge-serve.service \
	/usr/share/man/man7/wsbridge.7.gz /usr/share/zsh/vendor-completions/_wsbridge \
	/usr/share/doc/wsbridge/copyright /usr/share/doc/wsbridge/changelog.gz; do
	grep -qx "$f" "$T/contents" || missing="$missing $f"
done
for t in serve pub sub health replay; do
	for f in /usr/bin/wsbridge-$t /usr/share/man/man1/wsbridge-$t.1.gz \
		/usr/share/bash-completion/completions/wsbridge-$t /usr/share/fish/vendor_completions.d/wsbridge-$t.fish; do
		grep -qx "$f" "$T/contents" || missing="$missing $f"
	done
done
check_eq "every promised file is in the package" "${missing:-none missing}" "none missing"

mkdir -p "$T/ctl" "$T/root"
dpkg-deb --control "$deb" "$T/ctl"
check_eq "the settings file is a conffile" "$(cat "$T/ctl/conffiles")" /etc/default/wsbridge-serve
dpkg -x "$deb" "$T/root"
check "md5sums match what is unpacked" sh -c "cd '$T/root' && md5sum --quiet -c '$T/ctl/md5sums'"
check "the unit reads its settings from /etc/default and passes ARGS" \
	sh -c "grep -qx 'EnvironmentFile=-/etc/default/wsbridge-serve' '$T/root/lib/systemd/system/wsbridge-serve.service' &&
	       grep -qx 'ExecStart=/usr/bin/wsbridge-serve \$ARGS' '$T/root/lib/systemd/system/wsbridge-serve.service'"
check "the settings file sets only WSBRIDGE_* variables and ARGS" \
	sh -c "! grep -Ev '^(#|\$|WSBRIDGE_[A-Z_]+=|ARGS=)' '$T/root/etc/default/wsbridge-serve'"
check "its man pages render" sh -c "MANWIDTH=80 man -l '$T/root/usr/share/man/man1/wsbridge-serve.1.gz' | grep -q wsbridge"
if command -v apt-get >/dev/null 2>&1; then
	apt-get -s -o Debug::NoLocking=1 install "$deb" >"$T/apt.out" 2>&1
	check "apt can install it (simulated: apt-get -s install ./$(basename "$deb"))" grep -q '^Inst wsbridge ' "$T/apt.out"
fi

# The tools as installed, from the scratch root.
R=$T/root/usr/bin
check "wsbridge-serve --version from the package" sh -c "'$R/wsbridge-serve' --version | grep -q ' $version\$'"
WSB_BIN=$R start_serve || { fail "the packaged wsbridge-serve starts"; finish; }
"$R/wsbridge-sub" --url "$WS_URL" --count 1 --timeout 10 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
track $SUB
wait_subscribers 1 || fail "the packaged wsbridge-sub subscribes"
echo '{"type":"order","data":{"symbol":"AAPL"}}' | "$R/wsbridge-pub" --url "$WS_URL" 2>"$T/pub.err"
check_eq "the packaged wsbridge-pub exits 0 (acknowledged)" "$?" 0
wait_pid $SUB 10
check_eq "the packaged wsbridge-sub exits 0 after one message" "$RC" 0
check "... and it is the one published" grep -q '"symbol":"AAPL"' "$T/sub.out"
stop "$SERVE_PID"

# lintian judges the package that is shipped, not one of sanitizer builds.
if [ "${WSB_SAN:-}" = 1 ]; then
	echo "lintian skipped: a sanitizer build is not what make deb ships"
elif command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error "$deb" >"$T/lintian.out" 2>&1
	rc=$?
	grep -v 'root privileges' "$T/lintian.out" | sed 's/^/  lintian: /'
	check_eq "lintian finds no error" "$rc" 0
else
	fail "lintian finds no error" "lintian is not installed (scripts/install-deps.sh deb)"
fi
finish
