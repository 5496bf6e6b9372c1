#!/usr/bin/env bash
# Builds each C program of a directory with the musl SDK (guests/musl/roam-cc)
# into a static RV32 Linux ELF, one program per .c file; the ELFs are committed
# and CI builds them again. Used by guests/calls/build.sh and guests/net/build.sh.
#
#   bash guests/musl/build-each.sh SRC_DIR OUT_DIR [name ...]   # every program, or some of them
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$1" out="$2"
shift 2
cd "$ROOT"
mkdir -p "$out"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$src"/*.c; do names+=("$(basename "$f" .c)"); done
fi
for name in "${names[@]}"; do
    # Relative paths and the prefix map keep the build directory out of the ELF.
    guests/musl/roam-cc -O2 -Wall -Werror "-ffile-prefix-map=$ROOT=." -o "$out/$name.elf" "$src/$name.c"
    riscv64-unknown-elf-strip "$out/$name.elf"
    printf '%-40s %8s bytes\n' "$out/$name.elf" "$(wc -c <"$out/$name.elf")"
done
