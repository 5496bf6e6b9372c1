// The process-mode guests (guests/bin/process/*.elf) and how to run them:
// fixed arguments, stdin, files and what must come out. Shared by
// test/guests-qemu.test.ts (qemu-riscv32 as the oracle) and the roam-vs-qemu
// differential test, so both exercise the same runs.
//
// How a case runs (both harnesses must do the same, or outputs can differ):
//   - in a fresh, empty working directory, where `dirs`, `files` and
//     `symlinks` are created first; the guest's paths are relative to it
//   - argv = [path of the ELF, ...args]; argv[0] may be any path to the ELF
//     (the guests print at most its last component)
//   - environment: exactly `env` (nothing inherited)
//   - stdin: a pipe carrying `stdin` (empty when absent), then EOF. A pipe,
//     not a file: wc's column width depends on fstat(0) saying "not a
//     regular file"
//   - stdout and stderr: pipes or files, never a terminal (isatty false, so
//     stdout is fully buffered and flushed at exit or by the guest)
//
// Expected values are written down independently of the guests' output:
// literal text worked out by hand (wc's counts, cat's bytes), the reference
// checksums of the bare-metal guests (guests/build.sh), or the small
// JavaScript models below (crc32, sieve, matmul and quicksort checksums,
// memwalk's content and checksums, counter's hash, echo-lines' numbering).
import { Buffer } from "node:buffer";
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ProcessCase {
  /** unique id, used as the test title */
  id: string;
  /** guests/bin/process/<guest>.elf */
  guest: string;
  /** argv[1..] */
  args: string[];
  env?: Record<string, string>;
  stdin?: string | Buffer;
  /** directories to create (in order) before the run */
  dirs?: string[];
  /** files to create before the run: relative path -> contents */
  files?: Record<string, string | Buffer>;
  /** symbolic links to create before the run: relative path -> target */
  symlinks?: Record<string, string>;

  /** expected exit status */
  status: number;
  /** stdout, exactly (when given) */
  stdout?: string | Buffer;
  /** stderr, exactly (when given) */
  stderr?: string;
  /** patterns stdout must match */
  stdoutMatches?: RegExp[];
  /** patterns stdout must not match */
  stdoutRejects?: RegExp[];
  /** directories that must exist and be empty after the run */
  emptyAfter?: string[];
  /** the run must take at least this long (rate limits, sleeps) */
  minDurationMs?: number;

  /** only meaningful on Roam (qemu-riscv32 has no sandbox) */
  roamOnly?: boolean;
  /** long-running (a benchmark size): leave out of quick runs */
  slow?: boolean;
  /** what the case is about */
  note?: string;
}

// ---- independent models ---------------------------------------------------

const u32 = (x: number): number => x >>> 0;
const rotl32 = (x: number, r: number): number => u32((x << r) | (x >>> (32 - r)));
const hex8 = (x: number): string => "0x" + u32(x).toString(16).padStart(8, "0");

function xorshift32(state: { s: number }): number {
  let x = state.s;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state.s = u32(x);
  return state.s;
}

/** guests/baremetal/kernels/sieve.c: the checksum and the count of primes below n */
export function sieveKernel(n: number): { sum: number; count: number } {
  const composite = new Uint8Array(n);
  for (let i = 2; i * i < n; i++) if (!composite[i]) for (let j = i * i; j < n; j += i) composite[j] = 1;
  let count = 0;
  let sum = 0;
  for (let i = 2; i < n; i++)
    if (!composite[i]) {
      count++;
      sum = u32(rotl32(sum, 3) ^ i);
    }
  return { sum, count };
}

/** guests/baremetal/kernels/crc32.c: CRC-32 (IEEE) of a generated buffer */
export function crc32Kernel(len: number, seed: number): number {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? u32(0xedb88320 ^ (c >>> 1)) : c >>> 1;
    table[i] = c;
  }
  const state = { s: u32(Math.imul(seed, 2654435761) + 1) };
  const buf = new Uint8Array(len);
  for (let i = 0; i < len; i += 4) {
    const r = xorshift32(state);
    buf[i] = r & 0xff;
    buf[i + 1] = (r >>> 8) & 0xff;
    buf[i + 2] = (r >>> 16) & 0xff;
    buf[i + 3] = (r >>> 24) & 0xff;
  }
  let crc = 0xffffffff;
  for (let i = 0; i < len; i++) crc = u32(table[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8));
  return u32(~crc);
}

/** guests/baremetal/kernels/matmul.c: checksum of an n x n integer matrix product */
export function matmulKernel(n: number, seed: number): number {
  const state = { s: u32(Math.imul(seed, 0x9e3779b9) + 7) };
  const A = new Int32Array(n * n);
  const B = new Int32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    A[i] = (xorshift32(state) % 2001) - 1000;
    B[i] = (xorshift32(state) % 2001) - 1000;
  }
  let sum = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc = (acc + Math.imul(A[i * n + k], B[k * n + j])) | 0;
      sum = u32(Math.imul(sum, 31) + acc);
    }
  return sum;
}

/** guests/baremetal/kernels/qsort.c: FNV-1a of the sorted array (any correct sort gives it) */
export function qsortKernel(n: number, seed: number): number {
  const state = { s: u32(Math.imul(seed, 0x85ebca6b) + 11) };
  const arr = new Int32Array(n);
  for (let i = 0; i < n; i++) arr[i] = xorshift32(state) | 0;
  arr.sort();
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = u32(Math.imul(h ^ arr[i], 16777619));
  return h;
}

/** what `compute` prints for its single-kernel part: the models' values, and the
 * combined checksums the bare-metal guests check (guests/build.sh EXPECT=) */
function computeSingles(): string {
  const CRC_MAX = 65536;
  const QSORT_MAX = 16384;
  const sieve = sieveKernel(200000);
  let crcAll = 0;
  const crcLines: string[] = [];
  for (let seed = 1; seed <= 4; seed++) {
    const c = crc32Kernel(CRC_MAX, seed);
    crcLines.push(`crc32: seed ${seed}, ${CRC_MAX} bytes: ${hex8(c)}\n`);
    crcAll = u32(rotl32(crcAll, 1) ^ c);
  }
  const m48 = matmulKernel(48, 1);
  const m64 = matmulKernel(64, 2);
  const q1 = qsortKernel(QSORT_MAX, 1);
  const q2 = qsortKernel(QSORT_MAX, 2);
  // the models must agree with the bare-metal references
  const check = (what: string, got: number, want: number) => {
    if (u32(got) !== want) throw new Error(`process-cases: ${what} model gives ${hex8(got)}, the reference is ${hex8(want)}`);
  };
  check("sieve", sieve.sum, 0xabdfbb03);
  check("crc32", crcAll, 0x8de1154d);
  check("matmul", m48 ^ rotl32(m64, 16), 0x313c15cb);
  check("quicksort", q1 ^ rotl32(q2, 11), 0x599986fb);
  return (
    `sieve: ${sieve.count} primes below 200000\n` +
    `sieve: checksum ${hex8(sieve.sum)} ok\n` +
    crcLines.join("") +
    `crc32: checksum ${hex8(crcAll)} ok\n` +
    `matmul: 48x48 ${hex8(m48)}, 64x64 ${hex8(m64)}\n` +
    `matmul: checksum ${hex8(m48 ^ rotl32(m64, 16))} ok\n` +
    `quicksort: ${QSORT_MAX} elements, sorted: yes, yes\n` +
    `quicksort: checksum ${hex8(q1 ^ rotl32(q2, 11))} ok\n` +
    `dhry: 20000 iterations\n` +
    `dhry: checksum 0x20423180 ok\n` // reference value only: no model of dhry
  );
}

function mix32(x: number): number {
  x = u32(x);
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return u32(x);
}

/**
 * guests/process/memwalk.c's output, from its content rules, for `--mib mib --fraction fraction --rounds rounds --rate rate`; `ran` is how many
 * rounds it ran (fewer than `rounds` when `--until FILE` stopped it; rounds 0 runs until then).
 */
export function memwalkOutput(mib: number, fraction: string, rounds: number, rate: string, ran = rounds): string {
  const WORDS = 1024;
  const pages = (mib << 20) / 4096;
  const ppm = Math.round(Number(fraction) * 1e6);
  const mem = new Uint32Array(pages * WORDS);
  const last = new Uint32Array(pages);
  const fill = (p: number, v: number) => {
    const k = mix32(u32(v + 0x9e3779b9));
    for (let w = 0; w < WORDS; w++) mem[p * WORDS + w] = mix32((p * WORDS + w) ^ k);
  };
  const checksum = () => {
    let h = 0x811c9dc5;
    for (let i = 0; i < mem.length; i++) h = Math.imul(h ^ mem[i], 16777619);
    return hex8(h);
  };
  let out = `memwalk: ${mib} MiB, ${pages} pages, fraction ${fraction}, ${rounds} rounds, rate ${rate} MiB/s\n`;
  for (let p = 0; p < pages; p++) fill(p, 0);
  out += `touched ${pages} pages, checksum ${checksum()}\n`;
  for (let r = 1; r <= ran; r++) {
    const key = mix32(u32(Math.imul(r, 0x85ebca6b) + 1));
    let count = 0;
    for (let p = 0; p < pages; p++) {
      if (mix32(p ^ key) % 1000000 >= ppm) continue;
      fill(p, r);
      last[p] = r;
      count++;
    }
    out += `round ${r}${rounds ? `/${rounds}` : ""}: rewrote ${count} pages, checksum ${checksum()}\n`;
  }
  out += `memwalk: final checksum ${checksum()}, verify ok\n`;
  return out;
}

/** A gate past the end of any test file: slowcat reads on to the end and exits (at a gate equal to the size it would wait). */
export const GATE_OPEN = 1_000_000_000;

/**
 * Lets slowcat (started with GATE `name`, in each sandbox of `dirs`) copy up to `bytes` bytes; it waits there
 * until the gate moves on. Written whole, then renamed, so the guest never reads half a number.
 */
export function openGate(dirs: string | string[], name: string, bytes: number): void {
  for (const dir of typeof dirs === "string" ? [dirs] : dirs) {
    writeFileSync(join(dir, `${name}.tmp`), `${bytes}\n`);
    renameSync(join(dir, `${name}.tmp`), join(dir, name));
  }
}

/** How many rounds a memwalk output shows. */
export function memwalkRounds(text: string): number {
  return text.match(/^round \d+/gm)?.length ?? 0;
}

/** guests/process/counter.c's output */
export function counterOutput(n: number, k: number, sleepMs: number): string {
  let out = `counter: N=${n} K=${k} sleep=${sleepMs}ms\n`;
  let hash = 0x811c9dc5;
  for (let i = 1; i <= n; i++) {
    hash = u32(Math.imul(hash ^ i, 16777619));
    if (i % k === 0 || i === n) out += `count ${i}/${n} hash ${hex8(hash)}\n`;
  }
  return out + `done: ${n} steps, hash ${hex8(hash)}\n`;
}

/** `cat -n`: what echo-lines writes for `input` */
export function numberLines(input: string): string {
  if (input === "") return "";
  const lines = input.split("\n");
  const last = lines.pop()!; // "" when the input ends in a newline
  let out = lines.map((line, i) => `${String(i + 1).padStart(6)}\t${line}\n`).join("");
  if (last !== "") out += `${String(lines.length + 1).padStart(6)}\t${last}`;
  return out;
}

/** deterministic bytes (an LCG), for binary test files */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = u32(Math.imul(s, 1103515245) + 12345);
    out[i] = s >>> 24;
  }
  return out;
}

// ---- test data --------------------------------------------------------------

const POEM =
  "Roam, roam, on the range,\n" +
  "where the harts and the hypervisors play;\n" +
  "where seldom is heard a discouraging word\n" +
  "\tand the pages are dirty all day.\n";
// lines 4; words 5 + 7 + 7 + 7 = 26; bytes 26 + 42 + 42 + 34 = 144

const WORDS = "one two  three\n\n   four\tfive\r\nsix"; // 3 lines, 6 words, 33 bytes, no final newline

function textBlock(lines: number): string {
  // printable ASCII only: coreutils wc and ours agree on words there
  let out = "";
  for (let i = 0; i < lines; i++) out += `line ${i}: ${"abc def ".repeat(i % 7)}end\n`;
  return out;
}
const BIG_TEXT = textBlock(2000);
const BIG_TEXT_WORDS = (() => {
  let words = 0;
  for (let i = 0; i < 2000; i++) words += 3 + 2 * (i % 7);
  return words;
})();

const RANDOM_BIN = pseudoRandomBytes(100_000, 2024);

const ECHO_INPUT = "alpha\nbeta\n\n  spaced out  \nlast line without a newline";

// ---- the cases --------------------------------------------------------------

export const PROCESS_CASES: ProcessCase[] = [
  {
    id: "hello",
    guest: "hello",
    args: [],
    status: 0,
    stdout: "Hello from Roam! (process mode, RV32IMAC)\nargc = 1\nargv[0] = hello.elf\nROAM_NAME is not set\n",
    stderr: "",
  },
  {
    id: "hello with arguments and ROAM_NAME",
    guest: "hello",
    args: ["first", "two words", ""],
    env: { ROAM_NAME: "Roam" },
    status: 0,
    stdout:
      "Hello from Roam! (process mode, RV32IMAC)\nargc = 4\nargv[0] = hello.elf\n" +
      "argv[1] = first\nargv[2] = two words\nargv[3] = \nROAM_NAME = Roam: hello, Roam!\n",
    stderr: "",
  },
  {
    id: "cat files",
    guest: "cat",
    args: ["poem.txt", "random.bin", "poem.txt"],
    files: { "poem.txt": POEM, "random.bin": RANDOM_BIN },
    status: 0,
    stdout: Buffer.concat([Buffer.from(POEM), RANDOM_BIN, Buffer.from(POEM)]),
    stderr: "",
  },
  {
    id: "cat stdin",
    guest: "cat",
    args: [],
    stdin: BIG_TEXT,
    status: 0,
    stdout: BIG_TEXT,
    stderr: "",
  },
  {
    id: "cat a missing file among others",
    guest: "cat",
    args: ["poem.txt", "missing.txt", "-"],
    files: { "poem.txt": POEM },
    stdin: "from stdin\n",
    status: 1,
    stdout: POEM + "from stdin\n",
    stderr: "cat: missing.txt: No such file or directory\n",
  },
  {
    id: "wc files",
    guest: "wc",
    args: ["poem.txt", "words.txt", "empty.txt", "big.txt"],
    files: { "poem.txt": POEM, "words.txt": WORDS, "empty.txt": "", "big.txt": BIG_TEXT },
    status: 0,
    // width: digits of 144 + 33 + 0 + big.txt's size
    stdout: (() => {
      const big = Buffer.byteLength(BIG_TEXT);
      const total = 144 + 33 + big;
      const w = String(total).length;
      const row = (l: number, wd: number, b: number, name: string) =>
        `${String(l).padStart(w)} ${String(wd).padStart(w)} ${String(b).padStart(w)} ${name}\n`;
      return (
        row(4, 26, 144, "poem.txt") +
        row(3, 6, 33, "words.txt") +
        row(0, 0, 0, "empty.txt") +
        row(2000, BIG_TEXT_WORDS, big, "big.txt") +
        row(2007, 32 + BIG_TEXT_WORDS, total, "total")
      );
    })(),
    stderr: "",
  },
  {
    id: "wc stdin (a pipe: width 7)",
    guest: "wc",
    args: [],
    stdin: POEM,
    status: 0,
    stdout: "      4      26     144\n",
    stderr: "",
  },
  {
    id: "wc -l of one file (width 1)",
    guest: "wc",
    args: ["-l", "poem.txt"],
    files: { "poem.txt": POEM },
    status: 0,
    stdout: "4 poem.txt\n",
    stderr: "",
  },
  {
    id: "wc -wc with a missing file and stdin",
    guest: "wc",
    args: ["-wc", "words.txt", "missing.txt", "-"],
    files: { "words.txt": WORDS },
    stdin: POEM,
    status: 1,
    stdout: "      6      33 words.txt\n     26     144 -\n     32     177 total\n",
    stderr: "wc: missing.txt: No such file or directory\n",
  },
  {
    id: "compute small",
    guest: "compute",
    args: [],
    status: 0,
    stdout:
      "compute: small\n" +
      computeSingles() +
      "compute-mix: 2 rounds\n" +
      "  sieve     0x6a257287\n  crc32     0xc4e3170a\n  matmul    0x05018ae1\n" +
      "  quicksort 0xe89804c3\n  dhry      0x60f400e6\n" +
      "compute-mix: checksum 0xc02c7b84 ok\n" + // guests/build.sh: compute-mix MIX_EXPECT
      "compute: all checksums ok\n",
    stderr: "",
    note: "about 51 million instructions",
  },
  {
    id: "compute bench",
    guest: "compute",
    args: ["bench"],
    status: 0,
    stdoutMatches: [/^compute-mix: 100 rounds$/m, /^compute-mix: checksum 0x211e8c97 ok$/m, /^compute: all checksums ok\n$/m],
    stdoutRejects: [/MISMATCH/],
    stderr: "",
    slow: true,
    note: "about 1.43 billion instructions; 0x211e8c97 is compute-mix-bench's MIX_EXPECT",
  },
  {
    id: "compute with a bad size",
    guest: "compute",
    args: ["lots"],
    status: 2,
    stdout: "",
    stderr: "usage: compute [small|bench|ROUNDS]\n",
  },
  {
    id: "memwalk 1 MiB, half the pages, 3 rounds",
    guest: "memwalk",
    args: ["--mib", "1", "--fraction", "0.5", "--rounds", "3"],
    status: 0,
    stdout: memwalkOutput(1, "0.5", 3, "0"),
    stderr: "",
  },
  {
    id: "memwalk at 16 MiB/s",
    guest: "memwalk",
    args: ["--mib", "2", "--fraction", "0.25", "--rounds", "2", "--rate", "16"],
    status: 0,
    stdout: memwalkOutput(2, "0.25", 2, "16"),
    stderr: "",
    // about 1 MiB rewritten at 16 MiB/s: at least ~60 ms
    minDurationMs: 50,
  },
  {
    id: "echo-lines",
    guest: "echo-lines",
    args: [],
    stdin: ECHO_INPUT,
    status: 0,
    stdout: numberLines(ECHO_INPUT),
    stderr: "echo-lines: 5 lines\n",
  },
  {
    id: "echo-lines with no input",
    guest: "echo-lines",
    args: [],
    stdin: "",
    status: 0,
    stdout: "",
    stderr: "echo-lines: 0 lines\n",
  },
  {
    id: "counter",
    guest: "counter",
    args: [],
    status: 0,
    stdout: counterOutput(10, 1, 0),
    stderr: "",
  },
  {
    id: "counter to 100000 by 25000",
    guest: "counter",
    args: ["100000", "25000"],
    status: 0,
    stdout: counterOutput(100000, 25000, 0),
    stderr: "",
  },
  {
    id: "counter with 20 ms sleeps",
    guest: "counter",
    args: ["5", "1", "20"],
    status: 0,
    stdout: counterOutput(5, 1, 20),
    stderr: "",
    minDurationMs: 80, // 4 sleeps
  },
  {
    id: "syscalls",
    guest: "syscalls",
    args: ["scratch"],
    dirs: ["scratch"],
    status: 0,
    stdoutMatches: [/^ok 1 - /m, /^1\.\.\d+$/m, /^# \d+ checks, 0 failed$/m],
    stdoutRejects: [/^not ok/m],
    stderr: "",
    emptyAfter: ["scratch"],
    note: "exit status = number of failed checks",
  },
  {
    id: "sandbox",
    guest: "sandbox",
    args: ["scratch"],
    dirs: ["scratch"],
    symlinks: { "scratch/escape": "/etc" },
    status: 0,
    stdoutMatches: [/^1\.\.11$/m, /^# 11 checks, 0 escapes$/m],
    stdoutRejects: [/^not ok/m],
    stderr: "",
    roamOnly: true,
    note: "Roam's sandbox; on qemu-riscv32 every escape succeeds (status 11)",
  },
];

/** the ELF of a case, relative to the repository root */
export function caseElf(c: ProcessCase): string {
  return `guests/bin/process/${c.guest}.elf`;
}

/** creates the case's dirs, files and symlinks in `cwd` (an empty directory) */
export function prepareCaseDir(c: ProcessCase, cwd: string): void {
  for (const d of c.dirs ?? []) mkdirSync(join(cwd, d), { recursive: true });
  for (const [name, data] of Object.entries(c.files ?? {})) writeFileSync(join(cwd, name), data);
  for (const [name, target] of Object.entries(c.symlinks ?? {})) symlinkSync(target, join(cwd, name));
}
