# Part of Roam (not upstream riscv-tests).
#
# env/v/vm.c (vendored) calls trap_filter(tf) and pf_filter(addr, &pte, &copy)
# and treats a non-zero return as "handled by the test". Upstream defines both
# in env/v/riscv_test.h's RVTEST_CODE_BEGIN as `FILTER_TRAP/FILTER_PAGE_FAULT;
# li a0, 0; ret`, with both hooks empty unless a test overrides them. That
# riscv_test.h revision could not be vendored, so this file supplies the same
# default: never filter.
  .text
  .globl trap_filter
  .type trap_filter, @function
trap_filter:
  li a0, 0
  ret

  .globl pf_filter
  .type pf_filter, @function
pf_filter:
  li a0, 0
  ret
