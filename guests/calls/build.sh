#!/usr/bin/env bash
# Builds the system-call test programs (guests/calls/*.c) with the musl SDK
# into guests/bin/calls/*.elf, which the tests in test/kernel run on roam and
# on qemu-riscv32. The ELFs are committed; CI builds them again.
#
#   bash guests/calls/build.sh            # every program
#   bash guests/calls/build.sh processes  # some of them
set -euo pipefail

CALLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$(dirname "$CALLS")")"
cd "$ROOT"
mkdir -p guests/bin/calls
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in guests/calls/*.c; do names+=("$(basename "$f" .c)"); done
fi
for name in "${names[@]}"; do
    # Relative paths and the prefix map keep the build directory out of the ELF.
    guests/musl/roam-cc -O2 -Wall -Werror "-ffile-prefix-map=$ROOT=." -o "guests/bin/calls/$name.elf" "guests/calls/$name.c"
    riscv64-unknown-elf-strip "guests/bin/calls/$name.elf"
    printf '%-40s %8s bytes\n' "guests/bin/calls/$name.elf" "$(wc -c <"guests/bin/calls/$name.elf")"
done
