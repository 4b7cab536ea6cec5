#!/usr/bin/env bash
# Developer set-up in one command: installs what is missing (Debian/Ubuntu or Fedora), builds,
# then opens the demo (`demo`) or runs every test (`test`).
#   packaging/dev.sh demo   build and open the demo network (no display: export it and say where)
#   packaging/dev.sh test   build and run every test (unit, UI, lab; lab tests need root)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${NETMAP_BUILD_DIR:-$here/build}"
jobs="${NETMAP_JOBS:-$(nproc 2>/dev/null || echo 2)}"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'dev.sh: %s\n' "$*" >&2; exit 2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to install packages: $*"; fi
}

debian_packages=(cmake ninja-build g++ pkg-config qt6-base-dev qt6-svg-dev libgl-dev
                 libboost-graph-dev libyaml-cpp-dev)
fedora_packages=(cmake ninja-build gcc-c++ pkgconf qt6-qtbase-devel qt6-qtsvg-devel
                 boost-devel yaml-cpp-devel)
# Tests also use these (the lab brings its own list): tmux is the real terminal the CLI's output
# is read back from; xmllint, cmark-gfm and PyYAML are the real consumers of the exports.
debian_test_packages=(python3 python3-yaml tmux libxml2-utils cmark-gfm clang-format)
fedora_test_packages=(python3 python3-pyyaml tmux libxml2 cmark-gfm clang-tools-extra)
# tests/packaging: desktop entry, AppStream, RPM spec, man page and icon validators.
debian_test_packages+=(desktop-file-utils appstream appstream-util rpm groff-base man-db mandoc
                       librsvg2-bin)
fedora_test_packages+=(desktop-file-utils appstream libappstream-glib rpm-build groff-base man-db
                       mandoc librsvg2-tools)
# tst_diagramexport: the SVG rendered by librsvg against the PNG, and checked by libxml2.
debian_test_packages+=(libxml2-utils)
fedora_test_packages+=(libxml2)

install_missing() {
    if command -v apt-get >/dev/null; then
        local missing=()
        for p in "$@"; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
        done
        if [ ${#missing[@]} -gt 0 ]; then
            say "installing ${missing[*]}"
            as_root apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        fi
    elif command -v dnf >/dev/null; then
        local missing=()
        for p in "$@"; do rpm -q "$p" >/dev/null 2>&1 || missing+=("$p"); done
        if [ ${#missing[@]} -gt 0 ]; then
            say "installing ${missing[*]}"
            as_root dnf install -y -q "${missing[@]}"
        fi
    else
        die "no apt-get or dnf: install Qt 6 (base, svg), Boost, yaml-cpp, CMake and a C++20 compiler by hand"
    fi
}

packages() { # $1 = build|test
    if command -v apt-get >/dev/null; then
        install_missing "${debian_packages[@]}"
        [ "$1" = test ] && install_missing "${debian_test_packages[@]}"
    else
        install_missing "${fedora_packages[@]}"
        [ "$1" = test ] && install_missing "${fedora_test_packages[@]}"
    fi
    if [ "$1" = test ]; then
        for extra in "$here"/tests/*/install-deps.sh; do
            [ -x "$extra" ] && { say "test dependencies: ${extra#"$here"/}"; "$extra"; }
        done
    fi
    return 0
}

configure_and_build() { # extra cmake arguments
    say "building in $build"
    cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$build" -j "$jobs"
}

# The unit and UI tests again under AddressSanitizer + UndefinedBehaviorSanitizer (with leak
# detection), in their own build dir. -O1 keeps it quick; any report fails the run.
# NETMAP_SANITIZE_TESTS=0 skips it.
sanitizer_tests() {
    [ "${NETMAP_SANITIZE_TESTS:-1}" = 1 ] || { say "sanitizer build skipped (NETMAP_SANITIZE_TESTS=0)"; return 0; }
    local asan="${NETMAP_ASAN_BUILD_DIR:-$here/build-asan}"
    say "sanitizer build (ASan + UBSan) in $asan"
    cmake -S "$here" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DNETMAP_SANITIZE=ON -DNETMAP_WERROR=ON \
        -DNETMAP_BUILD_BENCH=OFF >/dev/null
    cmake --build "$asan" -j "$jobs"
    say "running the unit and UI tests under ASan + UBSan"
    (cd "$asan" && \
        ASAN_OPTIONS="halt_on_error=1:detect_leaks=1" \
        LSAN_OPTIONS="suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        ctest --output-on-failure -j "$jobs" --timeout 900 -L 'unit|ui')
}

# The core alone, as a dom0 script or a headless build would have it: configured with
# -DNETMAP_BUILD_UI=OFF (no Qt Gui, Widgets or Svg found at all), built with -Werror, and its
# unit tests run. NETMAP_HEADLESS_TESTS=0 skips it.
headless_tests() {
    [ "${NETMAP_HEADLESS_TESTS:-1}" = 1 ] || { say "core-only build skipped (NETMAP_HEADLESS_TESTS=0)"; return 0; }
    local core="${NETMAP_CORE_BUILD_DIR:-$here/build-core}"
    say "core-only build (-DNETMAP_BUILD_UI=OFF) in $core"
    cmake -S "$here" -B "$core" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETMAP_BUILD_UI=OFF \
        -DNETMAP_WERROR=ON -DNETMAP_BUILD_BENCH=OFF >/dev/null
    cmake --build "$core" -j "$jobs"
    say "running the unit tests of the core-only build"
    (cd "$core" && ctest --output-on-failure -j "$jobs" --timeout 900 -L unit)
}

# A few seconds of each libFuzzer target (tests/fuzz, CTest label fuzz) in a clang build dir
# of the core only. Skipped, with the reason, where clang or its fuzzer runtime is missing.
# Warnings are not errors here: the gcc build above holds the -Werror line.
# NETMAP_FUZZ_TESTS=0 skips it.
debian_fuzz_packages=(clang libclang-rt-dev llvm)
fedora_fuzz_packages=(clang compiler-rt llvm)
fuzz_smoke() {
    [ "${NETMAP_FUZZ_TESTS:-1}" = 1 ] || { say "fuzz smoke runs skipped (NETMAP_FUZZ_TESTS=0)"; return 0; }
    if command -v apt-get >/dev/null; then
        install_missing "${debian_fuzz_packages[@]}" || say "could not install ${debian_fuzz_packages[*]}"
    elif command -v dnf >/dev/null; then
        install_missing "${fedora_fuzz_packages[@]}" || say "could not install ${fedora_fuzz_packages[*]}"
    fi
    local cxx
    cxx=$(command -v clang++ || true)
    if [ -z "$cxx" ]; then
        say "fuzz smoke runs SKIPPED: clang++ is not installed"; return 0
    fi
    if ! printf 'extern "C" int LLVMFuzzerTestOneInput(const char *, unsigned long) { return 0; }\n' |
        "$cxx" -x c++ -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null; then
        say "fuzz smoke runs SKIPPED: $cxx cannot link -fsanitize=fuzzer (clang's runtime, libclang-rt-dev, is missing)"
        return 0
    fi
    local fuzz="${NETMAP_FUZZ_BUILD_DIR:-$here/build-fuzz}"
    say "fuzz build (clang, libFuzzer + ASan + UBSan) in $fuzz"
    cmake -S "$here" -B "$fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
        -DNETMAP_BUILD_FUZZ=ON -DNETMAP_BUILD_UI=OFF -DNETMAP_BUILD_BENCH=OFF >/dev/null
    cmake --build "$fuzz" -j "$jobs" --target netmap_fuzz
    say "fuzz smoke runs (a few seconds per parser)"
    (cd "$fuzz" && ctest --output-on-failure -j "$jobs" -L fuzz)
}

case "${1:-}" in
demo)
    packages build
    configure_and_build
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        say "opening the demo network"
        exec "$build/app/qubes-netmap" --demo
    fi
    out="$build/demo"
    mkdir -p "$out"
    rc=0
    "$build/app/qubes-netmap" --demo --export "$out/demo.svg" --export "$out/demo.png" \
        --export "$out/demo.json" --export "$out/demo.yaml" --quiet || rc=$?
    [ "$rc" -le 1 ] || die "the demo export failed (exit $rc)"
    say "no display: the demo network was exported to $out (demo.svg, demo.png, demo.json, demo.yaml)"
    ;;
test)
    packages test
    configure_and_build -DNETMAP_WERROR=ON
    say "running every test"
    cd "$build"
    ctest --output-on-failure -j "$jobs" --timeout 900
    sanitizer_tests
    headless_tests
    fuzz_smoke
    ;;
*)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
