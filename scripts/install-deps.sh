#!/bin/sh
# Installs the Debian packages wsbridge needs to build, test and benchmark,
# and only those that are missing. Called first by `make serve`, `make check`,
# `make fuzz` (libFuzzer needs clang and its runtime), `make valgrind` and `make deb`.
# Usage: scripts/install-deps.sh [build|check|bench|fuzz|valgrind|deb]   (default: check)
set -eu

what=${1:-check}

# libssl-dev: SHA-256 of producer secrets (-lcrypto), the OpenSSL libwebsockets already uses
# libhiredis-dev: wsbridge-serve --cluster links it (running without Redis needs no server)
build_pkgs="build-essential pkg-config libwebsockets-dev libjq-dev libonig-dev libcurl4-openssl-dev zlib1g-dev libssl-dev libhiredis-dev"
# deb: make deb (dpkg-deb, dpkg-shlibdeps) and the lintian check of 92-deb.sh
deb_pkgs="$build_pkgs dpkg-dev lintian man-db"
# chromium: the console tests (45-49) drive the page in a real headless browser.
# redis-server: the cluster tests (110-119) start their own, on a free port.
check_pkgs="$deb_pkgs curl python3 python3-websockets jq groff-base openssl gzip chromium universal-ctags redis-server"
bench_pkgs="$check_pkgs mosquitto mosquitto-clients time"
fuzz_pkgs="$build_pkgs clang libclang-rt-14-dev"
valgrind_pkgs="$check_pkgs valgrind"

case $what in
build) pkgs=$build_pkgs ;;
check) pkgs=$check_pkgs ;;
bench) pkgs=$bench_pkgs ;;
fuzz) pkgs=$fuzz_pkgs ;;
valgrind) pkgs=$valgrind_pkgs ;;
deb) pkgs=$deb_pkgs ;;
*) echo "install-deps.sh: unknown set '$what' (build|check|bench|fuzz|valgrind|deb)" >&2; exit 64 ;;
esac

missing=
for p in $pkgs; do
	# dpkg-query prints "install ok installed" only for a fully installed package.
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "install-deps.sh: need root or sudo to install:$missing" >&2
	exit 77
fi

echo "install-deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A package that cannot be installed fails the target that needs it, saying
# which: make check never skips what it cannot run.
# shellcheck disable=SC2086
$sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
	echo "install-deps.sh: could not install:$missing ('$what' needs them)" >&2
	exit 1
}
