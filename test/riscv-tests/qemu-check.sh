#!/usr/bin/env bash
# Cross-check the built ELFs against QEMU's `spike` machine (HTIF tohost):
# exit status 0 = the test passed. Usage: qemu-check.sh [ELF...]
# (default: every ELF in bin/). Prints one line per test and a summary.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
QEMU="${QEMU:-qemu-system-riscv32}"
command -v "$QEMU" >/dev/null || { echo "qemu-check.sh: $QEMU not found" >&2; exit 1; }
if [[ $# -eq 0 ]]; then set -- "$HERE"/bin/*; fi
run_one() {
  local rc=0
  timeout 20 "$QEMU" -M spike -bios none -nographic -monitor none -serial none -kernel "$1" </dev/null >/dev/null 2>&1 || rc=$?
  if [[ $rc -eq 0 ]]; then echo "PASS $(basename "$1")"; else echo "FAIL $(basename "$1") (exit $rc)"; fi
}
export -f run_one; export QEMU
printf '%s\n' "$@" | xargs -P "${JOBS:-$(nproc)}" -I{} bash -c 'run_one "$@"' _ {} | sort -k2 | tee /dev/stderr | awk '
  $1=="PASS"{p++} $1=="FAIL"{f++} END{printf "%d passed, %d failed\n", p, f; exit (f>0)}'
