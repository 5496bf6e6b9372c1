#!/usr/bin/env bash
# Builds real programs from the vendored sources (guests/vendor/) with the
# musl SDK (guests/musl/roam-cc) into guests/bin/real/: busybox.elf, lua.elf
# and sqlite3.elf, static RV32IMAC Linux executables for `roam run` and
# `qemu-riscv32`. The ELFs are committed; README.md here says what each is.
#
#   bash guests/real/build.sh              # all three (about 2 min on 2 cores)
#   bash guests/real/build.sh lua sqlite3  # some of them
#
# Builds the musl sysroot first if it is missing or stale. JOBS=N for make -jN.
set -euo pipefail

REAL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GUESTS="$(dirname "$REAL")"
ROOT="$(dirname "$GUESTS")"
VENDOR="$GUESTS/vendor"
OUT="$GUESTS/bin/real"
CC="$GUESTS/musl/roam-cc"
JOBS="${JOBS:-2}"
SYSROOT="${ROAM_MUSL_SYSROOT:-$ROOT/build/musl-sysroot}"

die() { echo "real/build.sh: $*" >&2; exit 1; }

(cd "$VENDOR" && sha256sum --quiet -c SHA256SUMS) || die "a tarball in guests/vendor does not match SHA256SUMS"
bash "$GUESTS/musl/build-sysroot.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

# unpack <tarball>: into the scratch directory; prints the source directory
unpack() {
    tar -C "$work" -xJf "$VENDOR/$1"
    echo "$work/${1%.tar.xz}"
}

# The prefix maps keep the scratch and sysroot paths out of the programs (in
# __FILE__ of assertions, say), so the committed ELFs are the same wherever
# they are built; -s strips them, which also keeps them small.
# cflags <source directory> <name to show instead>
cflags() {
    echo "-O2 -ffile-prefix-map=$1=$2 -ffile-prefix-map=$SYSROOT=musl"
}

BUILT=()
# done_building <elf> <start time>
done_building() {
    BUILT+=("$(printf '%-28s %9s bytes  %4s s' "${1#"$ROOT"/}" "$(wc -c <"$1")" "$(($(date +%s) - $2))")")
}

# ---- Lua 5.4: the standalone interpreter `lua` -----------------------------
# As upstream's `make linux` but without readline (not in the sysroot);
# LUA_USE_LINUX gives os.tmpname via mkstemp, io.popen via popen, and
# package.loadlib, which musl's static dlopen refuses cleanly.
build_lua() {
    local start src
    start=$(date +%s)
    src=$(unpack lua-5.4.7.tar.xz)
    (
        cd "$src"
        # ltests.c is the test-suite build's instrumentation, onelua.c all in one
        ls ./*.c | grep -v -x './ltests.c\|./onelua.c' |
            xargs -P"$JOBS" -I{} "$CC" $(cflags "$src" lua-5.4.7) -std=c99 -Wall -DLUA_USE_LINUX -c {}
        "$CC" -s -o "$OUT/lua.elf" ./*.o -lm
    )
    done_building "$OUT/lua.elf" "$start"
}

# ---- SQLite: the sqlite3 shell on the amalgamation --------------------------
# One thread, no loadable extensions and no popen (no dynamic linker and,
# under Roam, perhaps no fork), strict SQL quoting; math functions on.
build_sqlite3() {
    local start src
    start=$(date +%s)
    src=$(unpack sqlite-amalgamation-3.46.1.tar.xz)
    local defs=(-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_POPEN
        -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_DQS=0 -DSQLITE_ENABLE_MATH_FUNCTIONS -DHAVE_USLEEP=1)
    (
        cd "$src"
        # the two files compile in parallel; sqlite3.c takes most of the time
        printf '%s\n' sqlite3.c shell.c |
            xargs -P"$JOBS" -I{} "$CC" $(cflags "$src" sqlite-3.46.1) "${defs[@]}" -c {}
        "$CC" -s -o "$OUT/sqlite3.elf" shell.o sqlite3.o -lm
    )
    done_building "$OUT/sqlite3.elf" "$start"
}

# ---- BusyBox: ash as sh and the coreutils a shell script needs ---------------
# busybox.config is a complete configuration; `make oldconfig` must leave it
# as it is (a changed config would be a silent change of the program).
build_busybox() {
    local start src
    start=$(date +%s)
    src=$(unpack busybox-1.36.1.tar.xz)
    # the banner's build date: the release's, not today's
    export SOURCE_DATE_EPOCH=1684449064
    local mk=(CC="$CC" CROSS_COMPILE=riscv64-unknown-elf- HOSTCC=gcc
        EXTRA_CFLAGS="$(cflags "$src" busybox-1.36.1)")
    (
        cd "$src"
        cp "$REAL/busybox.config" .config
        { yes '' || true; } | make "${mk[@]}" oldconfig >"$work/busybox-config.log" 2>&1 ||
            { tail -20 "$work/busybox-config.log" >&2; exit 1; }
        if ! diff <(grep '^CONFIG_' "$REAL/busybox.config") <(grep '^CONFIG_' .config) >"$work/busybox-config.diff"; then
            cat "$work/busybox-config.diff" >&2
            exit 1
        fi
        make -j"$JOBS" "${mk[@]}" busybox >"$work/busybox.log" 2>&1 ||
            { grep -B2 -A8 -m3 'error' "$work/busybox.log" >&2 || tail -30 "$work/busybox.log" >&2; exit 1; }
        cp busybox "$OUT/busybox.elf"
    ) || die "busybox: the build failed, or make oldconfig changed busybox.config (diff above)"
    done_building "$OUT/busybox.elf" "$start"
}

ALL=(busybox lua sqlite3)
want=("$@")
[ ${#want[@]} -eq 0 ] && want=("${ALL[@]}")
for p in "${want[@]}"; do
    case "$p" in
    busybox | lua | sqlite3) "build_$p" ;;
    *) die "unknown program '$p' (have: ${ALL[*]})" ;;
    esac
done

echo "built ${#BUILT[@]} real programs with musl:"
printf '  %s\n' "${BUILT[@]}"
