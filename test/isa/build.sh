#!/usr/bin/env bash
# Build every test/isa/src/*.S into test/isa/bin/NAME.elf (plus NAME.dump,
# a disassembly for debugging).  Idempotent: rebuilds everything each run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/src"
bin="$here/bin"
env="$here/env"

CC="${RISCV_CC:-riscv64-unknown-elf-gcc}"
OBJDUMP="${RISCV_OBJDUMP:-riscv64-unknown-elf-objdump}"
MARCH="rv32imac_zicsr_zifencei"
# gcc releases before 12 know Zicsr/Zifencei only as part of the base ISA.
if ! echo 'csrr a0, mstatus' | "$CC" -march="$MARCH" -mabi=ilp32 -x assembler -c -o /dev/null - 2>/dev/null; then
  MARCH="rv32imac"
fi

CFLAGS=(-march="$MARCH" -mabi=ilp32 -nostdlib -nostartfiles -static
        -T "$env/link.ld" -I "$env" -Wa,--fatal-warnings -Wl,--no-warn-rwx-segments)

mkdir -p "$bin"
shopt -s nullglob
built=0
for s in "$src"/*.S; do
  name="$(basename "$s" .S)"
  # Assemble to a fixed-name object first: linking a .S directly leaves gcc's
  # random temporary file name in the symbol table, and the ELF differs per build.
  obj="$(mktemp -d)/$name.o"
  "$CC" "${CFLAGS[@]}" -c -o "$obj" "$s"
  "$CC" "${CFLAGS[@]}" -o "$bin/$name.elf" "$obj"
  rm -rf "$(dirname "$obj")"
  "$OBJDUMP" -d -M no-aliases "$bin/$name.elf" > "$bin/$name.dump"
  echo "built test/isa/bin/$name.elf"
  built=$((built + 1))
done
echo "$built program(s) built"
