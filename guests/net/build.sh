#!/usr/bin/env bash
# Builds the programs that talk between guests (guests/net/*.c) with the musl
# SDK into guests/bin/net/*.elf, which the e2e tests of messages between guests
# and bench:messages run (and, to check them, qemu-riscv32). The ELFs are
# committed; CI builds them again.
#
#   bash guests/net/build.sh            # every program
#   bash guests/net/build.sh msgpeer    # some of them
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../musl/build-each.sh" guests/net guests/bin/net "$@"
