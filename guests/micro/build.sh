#!/usr/bin/env bash
# Builds the micro-benchmark guests (bench/micro.ts) into guests/bin/micro/: each source
# assembled once per variant (-D), static, no libc, text at 0x10000 as Linux loads it.
set -euo pipefail

MICRO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$(dirname "$MICRO")")"
CC="${CC:-riscv64-unknown-elf-gcc}"
out="$ROOT/guests/bin/micro"
mkdir -p "$out"

objs=$(mktemp -d)
trap 'rm -rf "$objs"' EXIT

build() { # source variant name
    # Assembled to a named object first: linked straight from the source, the ELF's symbol table names gcc's temporary
    # object file (/tmp/ccXXXXXX.o), and no two builds are byte for byte the same.
    (cd "$objs" && "$CC" -D"$2" -march=rv32imac -mabi=ilp32 -c -o "$3.o" "$MICRO/$1.S")
    "$CC" -march=rv32imac -mabi=ilp32 -nostdlib -static -Wl,-Ttext=0x10000 -Wl,--build-id=none \
        -o "$out/$3.elf" "$objs/$3.o"
}

build transfers INLINE loop-inline
build transfers NEAR call-near
build transfers FAR call-far
build memory LOAD loads
build memory STORE stores
build memory BYTES bytes
build memory STACK stack
build dispatch FRAME call-frame
build dispatch SWITCH switch
