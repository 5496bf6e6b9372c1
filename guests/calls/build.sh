#!/usr/bin/env bash
# Builds the system-call test programs (guests/calls/*.c) with the musl SDK
# into guests/bin/calls/*.elf, which the tests in test/kernel run on roam and
# on qemu-riscv32. The ELFs are committed; CI builds them again.
#
#   bash guests/calls/build.sh            # every program
#   bash guests/calls/build.sh processes  # some of them
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../musl/build-each.sh" guests/calls guests/bin/calls "$@"
