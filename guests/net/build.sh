#!/usr/bin/env bash
# Builds the programs that talk between guests (guests/net/*.c) with the musl SDK
# into guests/bin/net/*.elf, which the e2e tests and bench:messages run (and differential tests
# on qemu-riscv32). The ELFs are committed; CI builds them again.
#
#   bash guests/net/build.sh            # every program
#   bash guests/net/build.sh processes  # some of them
set -euo pipefail

CALLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$(dirname "$CALLS")")"
cd "$ROOT"
mkdir -p guests/bin/net
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in guests/net/*.c; do names+=("$(basename "$f" .c)"); done
fi
for name in "${names[@]}"; do
    # Relative paths and the prefix map keep the build directory out of the ELF.
    guests/musl/roam-cc -O2 -Wall -Werror "-ffile-prefix-map=$ROOT=." -o "guests/bin/net/$name.elf" "guests/net/$name.c"
    riscv64-unknown-elf-strip "guests/bin/net/$name.elf"
    printf '%-40s %8s bytes\n' "guests/bin/net/$name.elf" "$(wc -c <"guests/bin/net/$name.elf")"
done
