#!/usr/bin/env bash
# build-deb.sh — the wsbridge Debian package, with Debian's own tools
# (dpkg-shlibdeps for Depends, dpkg-deb to build), no debhelper needed.
#
# The package holds the five binaries of $WSB_BIN (default bin/, stripped),
# their man pages and wsbridge(7) (gzipped), the bash, zsh and fish
# completions, the systemd unit scripts/wsbridge-serve.service, its settings
# /etc/default/wsbridge-serve (a conffile: wsbridge has no --config file yet,
# so the unit reads WSBRIDGE_* variables and ARGS from there), and under
# /usr/share/doc/wsbridge the copyright, changelog.gz and README.md. The
# version is what the binaries say; scripts/deb/changelog must have an entry
# for it.
#
#   scripts/build-deb.sh [OUTDIR]     writes OUTDIR/wsbridge_VERSION_ARCH.deb
#                                     (default: the repository root) and
#                                     prints its path
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${WSB_BIN:-$root/bin}
outdir=${1:-$root}
die() { echo "build-deb.sh: $*" >&2; exit 1; }

tools=(serve pub sub health replay)
for t in "${tools[@]}"; do
	[ -x "$bindir/wsbridge-$t" ] || die "$bindir/wsbridge-$t is missing (run make first)"
done
version=$("$bindir/wsbridge-serve" --version | awk '{ print $NF; exit }')
arch=$(dpkg --print-architecture)
head -1 "$root/scripts/deb/changelog" | grep -q "^wsbridge ($version) " ||
	die "scripts/deb/changelog has no entry for version $version at the top: add one"

work=$(mktemp -d "${TMPDIR:-/tmp}/wsb-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
pkg=$work/wsbridge
doc=$pkg/usr/share/doc/wsbridge
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/share/man/man1" "$pkg/usr/share/man/man7" "$doc" \
	"$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
	"$pkg/usr/share/fish/vendor_completions.d" "$pkg/lib/systemd/system" "$pkg/etc/default"

for t in "${tools[@]}"; do
	install -m 0755 "$bindir/wsbridge-$t" "$pkg/usr/bin/"
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/bin/wsbridge-$t"
	gzip -9n <"$root/docs/man/wsbridge-$t.1" >"$pkg/usr/share/man/man1/wsbridge-$t.1.gz"
	# bash-completion loads a command's completion from a file of its name
	install -m 0644 "$root/completions/wsbridge.bash" "$pkg/usr/share/bash-completion/completions/wsbridge-$t"
	install -m 0644 "$root/completions/wsbridge.fish" "$pkg/usr/share/fish/vendor_completions.d/wsbridge-$t.fish"
done
gzip -9n <"$root/docs/man/wsbridge.7" >"$pkg/usr/share/man/man7/wsbridge.7.gz"
install -m 0644 "$root/completions/_wsbridge" "$pkg/usr/share/zsh/vendor-completions/_wsbridge"
install -m 0644 "$root/scripts/wsbridge-serve.service" "$pkg/lib/systemd/system/"
install -m 0644 "$root/scripts/deb/wsbridge-serve.default" "$pkg/etc/default/wsbridge-serve"
install -m 0644 "$root/scripts/deb/copyright" "$doc/copyright"
gzip -9n <"$root/scripts/deb/changelog" >"$doc/changelog.gz"
install -m 0644 "$root/README.md" "$doc/README.md"
chmod 0644 "$doc/changelog.gz" "$pkg"/usr/share/man/man*/*.gz

# Depends from the libraries the binaries link, as Debian's shlibs say.
mkdir -p "$work/src/debian"
printf 'Source: wsbridge\n\nPackage: wsbridge\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "${tools[@]/#/$pkg/usr/bin/wsbridge-}" 2>"$work/shlibdeps.err" |
	sed -n 's/^shlibs:Depends=//p') || { cat "$work/shlibdeps.err" >&2; die "dpkg-shlibdeps failed"; }
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"

size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
	"$root/scripts/deb/control" >"$pkg/DEBIAN/control"
echo /etc/default/wsbridge-serve >"$pkg/DEBIAN/conffiles"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
	>"$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"
find "$pkg" -type d -exec chmod 0755 {} +

mkdir -p "$outdir"
deb=$outdir/wsbridge_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
