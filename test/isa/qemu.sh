#!/usr/bin/env bash
# Validate the ISA test programs on QEMU (the correctness oracle).
#
#   test/isa/qemu.sh            build + run every program twice:
#                                 - with -DQEMU_QUIRKS (QEMU 7.2's known
#                                   deviations accepted): must all pass;
#                                 - the committed strict build (bin/*.elf):
#                                   reports which cases QEMU fails (only the
#                                   quirk cases listed in env/test.h should).
#   test/isa/qemu.sh --mutate   additionally, for every test case N of every
#                               program, build with -DQEMU_QUIRKS
#                               -DBREAK_TEST=N (N's checks inverted) and
#                               require QEMU to report failure N.
#   Program names may follow the options to restrict the run.
#
# Exit status is 0 only if every quirk build passes (and every mutant fails
# with its own number).  Needs riscv64-unknown-elf-gcc and
# qemu-system-riscv32 (spike board, HTIF tohost: exit code = value >> 1).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CC="${RISCV_CC:-riscv64-unknown-elf-gcc}"
NM="${RISCV_NM:-riscv64-unknown-elf-nm}"
QEMU="${QEMU:-qemu-system-riscv32}"
MARCH="rv32imac_zicsr_zifencei"
CFLAGS=(-march="$MARCH" -mabi=ilp32 -nostdlib -nostartfiles -static
        -T "$here/env/link.ld" -I "$here/env" -Wa,--fatal-warnings
        -Wl,--no-warn-rwx-segments)

mutate=0
if [[ "${1:-}" == "--mutate" ]]; then mutate=1; shift; fi
progs=("$@")
if [[ ${#progs[@]} -eq 0 ]]; then
  for s in "$here"/src/*.S; do progs+=("$(basename "$s" .S)"); done
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

run() {  # run ELF on QEMU, print exit status (124 = timeout)
  local rc=0
  timeout 10 "$QEMU" -M spike -bios none -nographic -monitor none \
    -serial none -kernel "$1" >/dev/null 2>&1 || rc=$?
  echo "$rc"
}

status=0
bash "$here/build.sh" >/dev/null
for p in "${progs[@]}"; do
  "$CC" "${CFLAGS[@]}" -DQEMU_QUIRKS -o "$tmp/$p.elf" "$here/src/$p.S"
  q="$(run "$tmp/$p.elf")"
  s="$(run "$here/bin/$p.elf")"
  n="$("$NM" "$tmp/$p.elf" | grep -c ' test_[0-9]*$' || true)"
  line="$(printf '%-14s %3d cases  quirks-build: ' "$p" "$n")"
  if [[ "$q" == 0 ]]; then line+="PASS"; else line+="FAIL($q)"; status=1; fi
  if [[ "$s" == 0 ]]; then line+="  strict-build: PASS"; else line+="  strict-build: fails case $s"; fi
  if [[ $mutate == 1 ]]; then
    bad=()
    skipped=()
    for t in $("$NM" "$tmp/$p.elf" | sed -n 's/.* test_\([0-9]*\)$/\1/p' | sort -n); do
      if "$NM" "$tmp/$p.elf" | grep -q " qemu_unchecked_$t\$"; then skipped+=("$t"); continue; fi
      "$CC" "${CFLAGS[@]}" -DQEMU_QUIRKS -DBREAK_TEST="$t" -o "$tmp/m.elf" "$here/src/$p.S"
      m="$(run "$tmp/m.elf")"
      [[ "$m" == "$t" ]] || bad+=("$t->$m")
    done
    if [[ ${#bad[@]} -eq 0 ]]; then line+="  mutants: all caught"
    else line+="  mutants not reporting their number: ${bad[*]}"; status=1; fi
    [[ ${#skipped[@]} -eq 0 ]] || line+=" (strict-only cases, not mutated: ${skipped[*]})"
  fi
  echo "$line"
done
exit $status
