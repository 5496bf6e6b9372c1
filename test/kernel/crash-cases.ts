// The runs of the `crash` guest (guests/process/crash.c) and what each must
// give: the status a shell shows (128 + signal for a fault), stdout, and for a
// fault the one line roam prints on stderr, checked against what the guest
// announced it was about to do (the address and the pc of the faulting
// instruction). Used by test/differential-run.test.ts (roam vs qemu-riscv32)
// and by the kernel tests.
import type { ProcessCase } from "../process-cases.js";

export interface CrashCase extends ProcessCase {
  /** what roam's one stderr line must say after "roam: ELF: ", from the guest's announcement */
  report?: (announced: Announced) => RegExp;
}

/** the guest's "crash: WHAT: ACTION 0xADDRESS at pc 0xPC" line */
export interface Announced {
  address: number;
  pc: number;
  line: string;
}

export const ANNOUNCE = /^crash: [\w-]+: .* (0x[0-9a-f]{8}) at pc (0x[0-9a-f]{8})$/m;
/** a hex number as roam may print it: 0x1f or 0x0000001f */
export const hexRe = (v: number) => `0x0*${(v >>> 0).toString(16)}`;
const RETIRED = ", \\d+ instructions retired";
const announcedLine = (what: string, action: string) => new RegExp(`^crash: ${what}: ${action} 0x[0-9a-f]{8} at pc 0x[0-9a-f]{8}\\n$`);

const segv = (kind: "read" | "write" | "execute") => (a: Announced) =>
  new RegExp(`^segmentation fault: ${kind} at address ${hexRe(a.address)} \\(pc ${hexRe(a.pc)}\\)${RETIRED}$`);

export const EFAULT_STDIN = "a line of input\n";
export const EFAULT_STDOUT =
  [
    "write(1, 0xdead0000, 16)", "write(1, NULL, 16)", "write(2, 0xfffffff8, 16) (wraps)", "read(0, 0xdead0000, 16)",
    "read(0, code, 16) (read-only)", "writev(1, {0xdead0000, 16}, 1)", "writev(1, 0xdead0000, 1)",
    "readv(0, {0xdead0000, 16}, 1)", "read(0, 8 bytes before an unmapped page, 16)",
  ].map((call) => `crash: efault: ${call}: -14 ok\n`).join("") +
  `crash: efault: then stdin gives ${EFAULT_STDIN.length} bytes: ${EFAULT_STDIN}` +
  "crash: efault: write 36 bytes to efault.txt: 36 ok\n" +
  "crash: efault: read(file, 8 bytes before an unmapped page, 16): -14 ok\n" +
  "crash: efault: ... the file position is still: 0 ok\n" +
  "crash: efault: still running\ncrash: efault: write(1, buf, 29): 29 ok\n";

export const CRASH_CASES: CrashCase[] = [
  {
    id: "crash segv: store through a null pointer",
    guest: "crash", args: ["segv"], status: 139, stdoutMatches: [announcedLine("segv", "store to")],
    report: segv("write"),
  },
  {
    id: "crash segv-read: load from an unmapped address",
    guest: "crash", args: ["segv-read"], status: 139, stdoutMatches: [announcedLine("segv-read", "load from")],
    report: segv("read"),
  },
  {
    id: "crash segv-text: store into read-only code",
    guest: "crash", args: ["segv-text"], status: 139, stdoutMatches: [announcedLine("segv-text", "store to")],
    report: segv("write"),
  },
  {
    id: "crash ill: illegal instruction",
    guest: "crash", args: ["ill"], status: 132, stdoutMatches: [announcedLine("ill", "illegal instruction")],
    report: (a) => new RegExp(`^illegal instruction ${hexRe(0)} at pc ${hexRe(a.pc)}${RETIRED}$`),
  },
  {
    id: "crash ebreak: breakpoint",
    guest: "crash", args: ["ebreak"], status: 133, stdoutMatches: [announcedLine("ebreak", "breakpoint")],
    report: (a) => new RegExp(`^breakpoint at pc ${hexRe(a.pc)}${RETIRED}$`),
  },
  {
    id: "crash jump: jump to an unmapped address",
    guest: "crash", args: ["jump"], status: 139, stdoutMatches: [announcedLine("jump", "jump to")],
    report: segv("execute"),
  },
  {
    id: "crash nx: call code in a data page",
    guest: "crash", args: ["nx"], status: 139, stdoutMatches: [announcedLine("nx", "call data at")],
    report: segv("execute"),
  },
  {
    id: "crash csr: read mstatus from U-mode",
    guest: "crash", args: ["csr"], status: 132, stdoutMatches: [announcedLine("csr", "csrr mstatus")],
    report: (a) => new RegExp(`^illegal instruction ${hexRe(0x30002573)} at pc ${hexRe(a.pc)}${RETIRED}$`), // csrr a0, mstatus
  },
  {
    id: "crash amo: amoadd.w on a misaligned address",
    guest: "crash", args: ["amo"], status: 135, stdoutMatches: [announcedLine("amo", "amoadd.w at")],
    report: (a) => new RegExp(`^bus error: misaligned access to ${hexRe(a.address)} \\(pc ${hexRe(a.pc)}\\)${RETIRED}$`),
  },
  {
    // The kernel drops only the unmapped page from the hart's TLBs (flushTranslationsOf): it must fault, the other not.
    id: "crash unmapped: a hot page unmapped faults, its neighbour still takes writes",
    guest: "crash", args: ["unmapped"], status: 139,
    stdoutMatches: [new RegExp(`^crash: unmapped: the second page still takes writes: ok\n${announcedLine("unmapped", "load from").source.slice(1)}`)],
    report: segv("read"),
  },
  {
    id: "crash readonly: a hot page made read-only still reads, and faults on a store",
    guest: "crash", args: ["readonly"], status: 139,
    stdoutMatches: [new RegExp(
      `^crash: readonly: the second page still takes writes: ok\ncrash: readonly: the first page still reads: ok\n${announcedLine("readonly", "store to").source.slice(1)}`)],
    report: segv("write"),
  },
  {
    id: "crash stack: recursion until the stack runs out",
    guest: "crash", args: ["stack"], status: 139, stdout: undefined,
    stdoutMatches: [/^crash: stack: recursing from 0x[0-9a-f]{8}\n$/],
    // checked separately below: the address is just under the stack, the pc in recurse()
    report: () => new RegExp(`^segmentation fault: write at address 0x[0-9a-f]+ \\(pc 0x[0-9a-f]+\\)${RETIRED}$`),
  },
  {
    id: "crash div: division by zero does not trap on RISC-V",
    guest: "crash", args: ["div"], status: 0, stderr: "",
    stdout:
      "crash: div: 7 / 0 = -1, 7 % 0 = 7\n" +
      "crash: div: 7u / 0 = 4294967295, 7u % 0 = 7\n" +
      "crash: div: INT32_MIN / -1 = -2147483648, INT32_MIN % -1 = 0\n" +
      "crash: div: no trap\n",
  },
  {
    id: "crash efault: wild pointers to read/write/readv/writev give -EFAULT",
    guest: "crash", args: ["efault"], status: 0, stderr: "", stdin: EFAULT_STDIN, stdout: EFAULT_STDOUT,
  },
  {
    id: "crash misaligned: misaligned loads and stores work",
    guest: "crash", args: ["misaligned"], status: 0, stderr: "",
    stdout:
      "crash: misaligned: lw at +1: 0x05040302\n" +
      "crash: misaligned: lhu at +3: 0x0504\n" +
      "crash: misaligned: after sw 0xa1b2c3d4 at +6: 0xc3d40605 0x0c0ba1b2 0x100f0e0d\n",
  },
  {
    id: "crash rdtime: the time CSR is readable from U-mode and advances (as on Linux)",
    guest: "crash", args: ["rdtime"], status: 0, stderr: "",
    stdout: "crash: rdtime: reading the time CSR\ncrash: rdtime: advances across a 20 ms sleep: yes\n",
    note:
      "rdtime must work in U-mode: Linux sets scounteren.TM for user programs, and qemu-riscv32 allows it " +
      "(roam's process mode leaves mcounteren/scounteren at 0, so the read traps as an illegal instruction)",
  },
  {
    id: "crash enosys: unknown system calls give -ENOSYS",
    guest: "crash", args: ["enosys"], status: 0, stderr: "",
    stdout:
      "crash: enosys: syscall 999: -38 ok\ncrash: enosys: syscall 999 again: -38 ok\n" +
      "crash: enosys: syscall 500: -38 ok\ncrash: enosys: syscall 999 a third time: -38 ok\n",
  },
  { id: "crash exit 0", guest: "crash", args: ["exit", "0"], status: 0, stdout: "crash: exit 0\n", stderr: "" },
  { id: "crash exit 7", guest: "crash", args: ["exit", "7"], status: 7, stdout: "crash: exit 7\n", stderr: "" },
  { id: "crash exit 300 (status 300 & 0xff = 44)", guest: "crash", args: ["exit", "300"], status: 44, stdout: "crash: exit 300\n", stderr: "" },
  { id: "crash exit -1 (status 255)", guest: "crash", args: ["exit", "-1"], status: 255, stdout: "crash: exit -1\n", stderr: "" },
  {
    id: "crash with no arguments: usage",
    guest: "crash", args: [], status: 2, stdout: "",
    stderr: "usage: crash segv|segv-read|segv-text|ill|ebreak|jump|nx|csr|amo|stack|div|misaligned|rdtime|efault|enosys|unmapped|readonly|exit N\n",
  },
];
