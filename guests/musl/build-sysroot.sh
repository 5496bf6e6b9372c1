#!/usr/bin/env bash
# Builds musl (guests/vendor/musl-*.tar.xz) for RV32IMAC/ilp32 Linux into a
# sysroot, build/musl-sysroot/ by default (ROAM_MUSL_SYSROOT elsewhere):
# include/, lib/{crt1,crti,crtn}.o, lib/libc.a (and musl's empty libm.a etc.),
# plus roam.specs, which guests/musl/roam-cc hands to gcc.
#
#   bash guests/musl/build-sysroot.sh          # builds it if missing or stale
#   bash guests/musl/build-sysroot.sh --force  # rebuilds it anyway
#
# The compiler is Debian's bare-metal riscv64-unknown-elf-gcc: musl needs no
# C library from the compiler, only its code generator, <stdarg.h> and friends
# and libgcc. The sysroot is rebuilt only when the tarball (its sha256) or
# this script changes; that takes about a minute on two cores.
set -euo pipefail

MUSL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GUESTS="$(dirname "$MUSL_DIR")"
ROOT="$(dirname "$GUESTS")"
CC="${CC:-riscv64-unknown-elf-gcc}"
SYSROOT="${ROAM_MUSL_SYSROOT:-$ROOT/build/musl-sysroot}"
VENDOR="$GUESTS/vendor"
TARBALL="$VENDOR/musl-1.2.5.tar.xz"
JOBS="${JOBS:-2}"

die() { echo "build-sysroot.sh: $*" >&2; exit 1; }

command -v "$CC" >/dev/null || die "no $CC (Debian: apt-get install gcc-riscv64-unknown-elf)"
(cd "$VENDOR" && sha256sum --quiet -c --ignore-missing SHA256SUMS) ||
    die "a tarball in guests/vendor does not match SHA256SUMS"

# gcc 12 wants the z-extensions spelled out; older ones reject them.
if echo 'int x;' | "$CC" -march=rv32imac_zicsr_zifencei -mabi=ilp32 -x c -c -o /dev/null - 2>/dev/null; then
    march=rv32imac_zicsr_zifencei
else
    march=rv32imac
fi
# The multilib matcher does not know rv32imac_zicsr_zifencei and would hand
# us the rv64 libgcc; ask for the rv32imac/ilp32 one by name.
libgcc=$("$CC" -march=rv32imac -mabi=ilp32 -print-libgcc-file-name)
case "$libgcc" in
*/rv32imac/ilp32/*) ;;
*) die "no rv32imac/ilp32 libgcc (got $libgcc)" ;;
esac
gccinc=$("$CC" -print-file-name=include)

# What the sysroot was built from: rebuilt when any of it changes.
stamp="$(sha256sum "$TARBALL" "${BASH_SOURCE[0]}" | cut -d' ' -f1 | tr '\n' ' ')$march $("$CC" -dumpversion)"

# roam.specs makes gcc a musl cross compiler, as musl's own musl-gcc.specs
# does for a native gcc: musl's headers before gcc's own (never newlib's),
# musl's crt files and libc.a, the rv32 libgcc by path, a static link. The
# bare-metal gcc does not say it targets Linux; a riscv32-linux-musl gcc
# defines these (and plain linux/unix outside strict ISO modes), and programs
# choose their Linux code by them (SQLite, for one).
write_specs() {
    local s=$SYSROOT
    local os="-D__linux__ -D__linux -D__unix__ -D__unix %{!ansi:%{!std=c*:%{!std=iso*:-Dlinux -Dunix}}} %{pthread:-D_REENTRANT}"
    cat >"$s/roam.specs" <<EOF
%rename cpp_options old_cpp_options

*cpp_options:
-nostdinc -isystem $s/include -isystem $gccinc $os %(old_cpp_options)

*cc1:
%(cc1_cpu) -nostdinc -isystem $s/include -isystem $gccinc $os

*link_libgcc:
-L$s/lib

*libgcc:
$libgcc

*lib:
-lc

*startfile:
$s/lib/crt1.o $s/lib/crti.o

*endfile:
$s/lib/crtn.o

*link_gcc_c_sequence:
--start-group %G %L --end-group

EOF
}

if [ "${1:-}" != --force ] && [ -f "$SYSROOT/lib/libc.a" ] && [ "$(cat "$SYSROOT/.stamp" 2>/dev/null)" = "$stamp" ]; then
    write_specs # the worktree may have moved; the specs name absolute paths
    echo "musl sysroot up to date: $SYSROOT"
    exit 0
fi

start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$TARBALL"
src="$work/musl-1.2.5"
rm -rf "$SYSROOT"
mkdir -p "$SYSROOT"
# -ffile-prefix-map keeps the scratch directory out of anything musl records,
# so programs linked against this libc.a do not depend on where it was built.
(
    cd "$src"
    ./configure --target=riscv32-linux-musl --prefix="$SYSROOT" --disable-shared \
        CC="$CC -march=$march -mabi=ilp32" CFLAGS="-ffile-prefix-map=$src=musl-1.2.5" \
        LIBCC="$libgcc" >"$work/configure.log" 2>&1 ||
        { cat "$work/configure.log" >&2; exit 1; }
    # musl names the archiver after the target triple; ours is the compiler's
    tools=(AR="${CC%gcc}ar" RANLIB="${CC%gcc}ranlib")
    make -j"$JOBS" "${tools[@]}" >"$work/make.log" 2>&1 || { tail -5 "$work/make.log" | cut -c1-400 >&2; exit 1; }
    make "${tools[@]}" install >>"$work/make.log" 2>&1 || { tail -5 "$work/make.log" | cut -c1-400 >&2; exit 1; }
) || die "building musl failed"
# musl installs musl-gcc and its specs only with --enable-wrapper; ours is roam-cc.
rm -rf "$SYSROOT/bin"
write_specs
echo "$stamp" >"$SYSROOT/.stamp"
echo "built musl 1.2.5 ($march/ilp32) into $SYSROOT in $(($(date +%s) - start)) s"
