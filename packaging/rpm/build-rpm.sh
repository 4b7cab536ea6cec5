#!/usr/bin/env bash
# Builds the qubes-netmap RPMs from this git checkout. Meant for a disposable Fedora qube of the
# same Fedora release as dom0 (Qubes 4.3: Fedora 41; Qubes 4.2: Fedora 37).
#   packaging/rpm/build-rpm.sh            install the build dependencies (dnf), then build
#   packaging/rpm/build-rpm.sh --no-deps  build only (the dependencies are already installed)
#   ... -- ARGS                           pass ARGS on to rpmbuild (e.g. --define 'dist .fc41')
# The source tarball is made with `git archive` from HEAD, so commit what you want packaged.
# Results go to packaging/rpm/out/ (or $NETMAP_RPM_OUT); the last line printed is the binary RPM.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
spec="$here/packaging/rpm/qubes-netmap.spec"
out="${NETMAP_RPM_OUT:-$here/packaging/rpm/out}"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-rpm.sh: %s\n' "$*" >&2; exit 2; }

deps=1
while [ $# -gt 0 ]; do
    case "$1" in
    --no-deps) deps=0; shift ;;
    --) shift; break ;;
    *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done

command -v git >/dev/null || die "git is missing (dnf install git)"
git -C "$here" rev-parse --git-dir >/dev/null 2>&1 || die "$here is not a git checkout"

if [ "$deps" = 1 ]; then
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    say "installing the build dependencies"
    "${as_root[@]}" dnf install -y -q rpm-build rpmdevtools 'dnf-command(builddep)'
    "${as_root[@]}" dnf builddep -y -q "$spec"
fi
command -v rpmbuild >/dev/null || die "rpmbuild is missing (dnf install rpm-build)"

name=$(rpmspec -q --srpm --qf '%{name}' "$spec")
version=$(rpmspec -q --srpm --qf '%{version}' "$spec")
[ -n "$name" ] && [ -n "$version" ] || die "cannot read the name and version from $spec"
if [ -n "$(git -C "$here" status --porcelain --untracked-files=no)" ]; then
    say "warning: uncommitted changes are not in the tarball (it is made from HEAD)"
fi

topdir=$(mktemp -d "${TMPDIR:-/tmp}/qubes-netmap-rpm.XXXXXX")
trap 'rm -rf "$topdir"' EXIT
mkdir -p "$topdir"/{BUILD,RPMS,SOURCES,SPECS,SRPMS} "$out"

tarball="$topdir/SOURCES/$name-$version.tar.gz"
say "making $name-$version.tar.gz from $(git -C "$here" rev-parse --short HEAD)"
git -C "$here" archive --format=tar.gz --prefix="$name-$version/" -o "$tarball" HEAD

say "rpmbuild -ba (builds, runs the unit tests, packages)"
rpmbuild -ba --define "_topdir $topdir" "$@" "$spec"

find "$topdir/RPMS" "$topdir/SRPMS" -name '*.rpm' -exec cp -t "$out" {} +
say "done; copy the binary RPM to dom0 as README.md explains:"
find "$out" -maxdepth 1 -name "$name-$version-*.rpm" ! -name '*.src.rpm' ! -name '*debug*' | sort
