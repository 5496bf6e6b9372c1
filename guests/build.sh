#!/usr/bin/env bash
# Builds the guest programs into guests/bin/. The ELFs are committed, so
# running this is only needed after changing a guest.
#
#   bash guests/build.sh            # everything
#   bash guests/build.sh baremetal  # one section
#
# Each section is a function named section_<name>; add new sections (e.g.
# process-mode guests) as functions and list them in SECTIONS.
set -euo pipefail

GUESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$GUESTS")"
CC="${CC:-riscv64-unknown-elf-gcc}"
SECTIONS=(baremetal process musl real calls net micro)
SCRATCH="$(mktemp -d)" # object files
trap 'rm -rf "$SCRATCH"' EXIT

BUILT=()
note_built() {
    local size
    size=$(wc -c <"$1")
    BUILT+=("$(printf '%-52s %8s bytes' "${1#"$ROOT"/}" "$size")")
}

# gcc 12 wants the z-extensions spelled out; older ones reject them.
rv32_march() {
    if echo 'int x;' | "$CC" -march=rv32imac_zicsr_zifencei -mabi=ilp32 -x c -c -o /dev/null - 2>/dev/null; then
        echo rv32imac_zicsr_zifencei
    else
        echo rv32imac
    fi
}

# ---- process-mode guests: static RV32 Linux programs (guests/process/build.sh) ----
section_process() {
    bash "$GUESTS/process/build.sh"
}

# ---- micro-benchmarks: one shape of code each, no libc (guests/micro/build.sh) ----
section_micro() {
    bash "$GUESTS/micro/build.sh"
    for elf in "$ROOT"/guests/bin/micro/*.elf; do note_built "$elf"; done
}

# ---- the musl SDK: the sysroot roam-cc links against (guests/musl/) -----------
# Built into build/musl-sysroot when missing or stale, then checked on QEMU.
section_musl() {
    bash "$GUESTS/musl/build-sysroot.sh"
    if command -v qemu-riscv32 >/dev/null; then
        bash "$GUESTS/musl/check/check.sh"
    else
        echo "build.sh: no qemu-riscv32, so the musl SDK's check (guests/musl/check) did not run"
    fi
}

# ---- real programs built with musl: BusyBox, Lua, SQLite (guests/real/) -----
section_real() {
    bash "$GUESTS/real/build.sh"
}

# ---- system-call test programs, musl (guests/calls/build.sh) -------------------
section_calls() {
    bash "$GUESTS/calls/build.sh"
}

# programs that talk between guests (e2e tests of messages, bench:messages)
section_net() {
    bash "$GUESTS/net/build.sh"
}

# ---- bare-metal guests: QEMU virt, -bios none, machine mode ---------------
section_baremetal() {
    local src=guests/baremetal out=guests/bin/baremetal # relative to $ROOT
    mkdir -p "$ROOT/$out"
    local march
    march=$(rv32_march)
    # Relative paths and the prefix maps keep the build directory out of the
    # debug info, so the committed ELFs are the same wherever they are built.
    local cflags=(
        "-march=$march" -mabi=ilp32 -mcmodel=medany -O2 -g
        -ffreestanding -fno-builtin -fno-pic -nostdlib -nostartfiles
        -fno-tree-loop-distribute-patterns
        "-ffile-prefix-map=$ROOT=." "-Wa,--debug-prefix-map=$ROOT=." -Wall -Wextra -Werror
        -I"$src/rt" -I"$src/kernels"
    )
    local ldflags=(-nostdlib -nostartfiles -T "$src/rt/link.ld" -Wl,--build-id=none)
    # The multilib matcher does not know rv32imac_zicsr_zifencei and would
    # hand us the rv64 libgcc; ask for the rv32imac/ilp32 one by name.
    local libgcc
    libgcc=$("$CC" -march=rv32imac -mabi=ilp32 -print-libgcc-file-name)
    case "$libgcc" in
    */rv32imac/ilp32/*) ;;
    *) echo "build.sh: no rv32imac/ilp32 libgcc (got $libgcc)" >&2; exit 1 ;;
    esac
    local rt=("$src"/rt/crt0.S "$src"/rt/uart.c "$src"/rt/printf.c "$src"/rt/string.c "$src"/rt/runtime.c)
    local kernels=("$src"/kernels/sieve.c "$src"/kernels/crc32.c "$src"/kernels/matmul.c
        "$src"/kernels/qsort.c "$src"/kernels/dhry.c "$src"/kernels/verdict.c)
    local objs="$SCRATCH/baremetal"

    # guest <name> <sources and -D flags...>: the runtime is always linked in
    guest() {
        local name=$1
        shift
        local defines=() sources=() objects=() f
        for f in "$@"; do
            case "$f" in
            -D*) defines+=("$f") ;;
            *) sources+=("$f") ;;
            esac
        done
        mkdir -p "$objs/$name"
        for f in "${rt[@]}" "${sources[@]}"; do
            local o
            o="$objs/$name/$(echo "${f%.*}" | tr / _).o"
            (cd "$ROOT" && "$CC" "${cflags[@]}" "${defines[@]}" -c "$f" -o "$o")
            objects+=("$o")
        done
        (cd "$ROOT" && "$CC" "-march=$march" -mabi=ilp32 "${ldflags[@]}" -o "$out/$name.elf" "${objects[@]}" "$libgcc")
        note_built "$ROOT/$out/$name.elf"
    }

    guest hello "$src/hello.c"
    guest exit-code "$src/exit-code.c"
    guest trap "$src/trap.c"
    guest echo "$src/echo.c"

    # single kernels, each checking its checksum against the value QEMU gives
    guest sieve "${kernels[@]}" "$src/sieve.c" -DEXPECT=0xabdfbb03
    guest crc32 "${kernels[@]}" "$src/crc32.c" -DEXPECT=0x8de1154d
    guest matmul "${kernels[@]}" "$src/matmul.c" -DEXPECT=0x313c15cb
    guest quicksort "${kernels[@]}" "$src/quicksort.c" -DEXPECT=0x599986fb
    guest dhry "${kernels[@]}" "$src/dhry.c" -DEXPECT=0x20423180

    # compute-mix: the test size and the benchmark size (MIX_ROUNDS rounds of
    # every kernel, about 15.5 million instructions a round)
    local mix=("${kernels[@]}" "$src/kernels/mix.c")
    guest compute-mix "${mix[@]}" "$src/compute-mix.c" -DMIX_ROUNDS=2 -DMIX_EXPECT=0xc02c7b84
    guest compute-mix-sv32 "${mix[@]}" "$src/compute-mix-sv32.c" -DMIX_ROUNDS=2 -DMIX_EXPECT=0xc02c7b84
    guest compute-mix-bench "${mix[@]}" "$src/compute-mix.c" -DMIX_ROUNDS=100 -DMIX_EXPECT=0x211e8c97
    guest compute-mix-sv32-bench "${mix[@]}" "$src/compute-mix-sv32.c" -DMIX_ROUNDS=100 -DMIX_EXPECT=0x211e8c97
    # the test size, run again and again until a byte arrives on the UART
    guest compute-until "${mix[@]}" "$src/compute-until.c" -DMIX_ROUNDS=2 -DMIX_EXPECT=0xc02c7b84
}

want=("$@")
[ ${#want[@]} -eq 0 ] && want=("${SECTIONS[@]}")
for s in "${want[@]}"; do
    if ! declare -F "section_$s" >/dev/null; then
        echo "build.sh: unknown section '$s' (have: ${SECTIONS[*]})" >&2
        exit 2
    fi
    "section_$s"
done

echo "built ${#BUILT[@]} guests:"
printf '  %s\n' "${BUILT[@]}"
