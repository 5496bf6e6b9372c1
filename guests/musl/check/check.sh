#!/usr/bin/env bash
# Checks the musl SDK: builds each program here with roam-cc and compares what
# it prints with what it must print, on qemu-riscv32 (the oracle) and, when
# ROAM_CHECK_ROAM=1, on `node bin/roam.js run` too (after npm run build).
#
#   bash guests/musl/check/check.sh
set -euo pipefail

CHECK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$(dirname "$(dirname "$CHECK")")")"
cc="$ROOT/guests/musl/roam-cc"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# name, arguments, expected output (\n between lines)
cases=(
    "hello|one|hello from musl, argc=2 argv[1]=one"
    "floats||3.142 1e-05 1.234568e+04 1.414213562\n2500.000000 0x1p+0\n0.10 -3"
    "heap||sorted 100000 ints, realloc kept 4 MiB"
    "clock||year>=2024 1 monotonic 1"
    "dirs|dirs.tmp|f0\nf1\nf2"
)

runners=("qemu-riscv32")
[ "${ROAM_CHECK_ROAM:-0}" = 1 ] && runners+=("node $ROOT/bin/roam.js run")
fail=0 pass=0
for c in "${cases[@]}"; do
    IFS='|' read -r name args want <<<"$c"
    "$cc" -O2 -Wall -Werror "$CHECK/$name.c" -o "$out/$name.elf"
    for r in "${runners[@]}"; do
        # shellcheck disable=SC2086 # the runner and the arguments are words
        got=$(cd "$out" && $r "$out/$name.elf" $args 2>&1) || got="$got (exit $?)"
        if [ "$got" = "$(printf '%b' "$want")" ]; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            printf 'FAIL %s on %s:\n%s\n-- wanted:\n%b\n' "$name" "${r%% *}" "$got" "$want"
        fi
    done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
