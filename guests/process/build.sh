#!/usr/bin/env bash
# Builds the process-mode guests: static RV32IMAC Linux executables (what
# `qemu-riscv32 X.elf` and `roam run X.elf` run) into guests/bin/process/.
# The ELFs are committed; running this is only needed after changing a guest
# or the SDK (guests/sdk).
#
#   bash guests/process/build.sh            # every guest
#   bash guests/process/build.sh hello wc   # some of them
#
# Needs riscv64-unknown-elf-gcc and picolibc for it (Debian:
# gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf).
set -euo pipefail

PROCESS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GUESTS="$(dirname "$PROCESS")"
ROOT="$(dirname "$GUESTS")"
CC="${CC:-riscv64-unknown-elf-gcc}"
src=guests/process sdk=guests/sdk out=guests/bin/process # relative to $ROOT
kernels=guests/baremetal/kernels

# gcc 12 wants the z-extensions spelled out; older ones reject them. The
# multilib matcher only knows plain rv32imac, so the link step (which picks
# picolibc's and libgcc's multilib directory) is given that.
if echo 'int x;' | "$CC" -march=rv32imac_zicsr -mabi=ilp32 -x c -c -o /dev/null - 2>/dev/null; then
    march=rv32imac_zicsr
else
    march=rv32imac
fi
multi=$("$CC" -march=rv32imac -mabi=ilp32 --specs=picolibc.specs -print-multi-directory)
if [ "$multi" != rv32imac/ilp32 ]; then
    echo "build.sh: no rv32imac/ilp32 multilib (got '$multi'); is picolibc for $CC installed?" >&2
    exit 1
fi

# Relative paths and the prefix maps keep the build directory out of the
# debug info, so the committed ELFs are the same wherever they are built.
cflags=(
    "-march=$march" -mabi=ilp32 --specs=picolibc.specs -O2 -g
    -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
    "-ffile-prefix-map=$ROOT=." "-Wa,--debug-prefix-map=$ROOT=."
    -Wall -Wextra -Werror -I"$sdk/include"
)
ldflags=(
    -march=rv32imac -mabi=ilp32 --specs=picolibc.specs
    -static -nostartfiles -T "$sdk/process.ld"
    -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,noexecstack
)
sdk_sources=("$sdk/crt0.S" "$sdk/start.c" "$sdk/posix.c" "$sdk/stdio.c")

objs=$(mktemp -d)
trap 'rm -rf "$objs"' EXIT
mkdir -p "$ROOT/$out"

# compile <object> <source> [extra flags...]
compile() {
    local o=$1 f=$2
    shift 2
    (cd "$ROOT" && "$CC" "${cflags[@]}" "$@" -c "$f" -o "$o")
}

sdk_objects=()
for f in "${sdk_sources[@]}"; do
    o="$objs/sdk_$(basename "${f%.*}").o"
    compile "$o" "$f"
    sdk_objects+=("$o")
done

BUILT=()
# guest <name> <sources...> [-flags...]: the SDK is always linked in
guest() {
    local name=$1
    shift
    local flags=() sources=() objects=() f
    for f in "$@"; do
        case "$f" in
        -*) flags+=("$f") ;;
        *) sources+=("$f") ;;
        esac
    done
    mkdir -p "$objs/$name"
    for f in "${sources[@]}"; do
        local o
        o="$objs/$name/$(echo "${f%.*}" | tr / _).o"
        compile "$o" "$f" "${flags[@]}"
        objects+=("$o")
    done
    (cd "$ROOT" && "$CC" "${ldflags[@]}" -o "$out/$name.elf" "${sdk_objects[@]}" "${objects[@]}")
    BUILT+=("$(printf '%-36s %8s bytes' "$out/$name.elf" "$(wc -c <"$ROOT/$out/$name.elf")")")
}

# the bare-metal kernels, built against picolibc through compat/rt.h
kflags=(-I"$src/compat" -I"$kernels" -fno-tree-loop-distribute-patterns)
ksources=("$kernels/sieve.c" "$kernels/crc32.c" "$kernels/matmul.c" "$kernels/qsort.c" "$kernels/dhry.c")

build_one() {
    case "$1" in
    compute) guest compute "$src/compute.c" "${ksources[@]}" "${kflags[@]}" ;;
    hello | cat | wc | memwalk | echo-lines | counter | syscalls | sandbox | crash | slowcat | family | orphan | fdfull | sigself | appender) guest "$1" "$src/$1.c" ;;
    *) echo "build.sh: unknown guest '$1'" >&2; exit 2 ;;
    esac
}

ALL=(hello cat wc compute memwalk echo-lines counter syscalls sandbox crash slowcat family orphan fdfull sigself appender)
want=("$@")
[ ${#want[@]} -eq 0 ] && want=("${ALL[@]}")
for g in "${want[@]}"; do
    build_one "$g"
done

echo "built ${#BUILT[@]} process-mode guests ($march, picolibc $multi):"
printf '  %s\n' "${BUILT[@]}"
