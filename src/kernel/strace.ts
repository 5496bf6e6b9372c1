// `roam run --strace`: each system call as strace prints it —
//   openat(AT_FDCWD, "f.txt", O_RDONLY|O_LARGEFILE) = 3
//   read(3, "hello\n", 4096) = 6
//   openat(AT_FDCWD, "nope", O_RDONLY) = -1 ENOENT (No such file or directory)
// with "[pid N] " in front once the guest has more than one process. A line
// is made when the call returns (a call that waits is printed once, when it is
// done), so buffers a call fills are shown with what it put there. Calls with
// no signature here print their first three arguments in hex.

import { hex } from "./address-space.js";
import { ERRNO_NAMES } from "./errno-names.js";
import { syscallName, type SyscallContext, type SyscallOutcome } from "./syscalls.js";

type Arg =
  | "int" | "uint" | "hex" | "fd" | "dirfd" | "path" | "instr" // a string the call reads
  | "inbuf" | "outbuf" | "outstr" // bytes the call reads (count in the next argument), fills (count = result), a string it fills
  | "oflags" | "mode" | "atflags" | "prot" | "mapflags" | "whence" | "clock" | "signal" | "fcntl" | "ioctl" | "access" | "ptr" | "prctl" | "futexop"
  | "off64" | "skip" | "fdflags"
  | "sockdomain" | "socktype" | "sockaddr" | "msgflags" | "shut" | "sockopt"; // sockaddr: its length is the next argument // fdflags: O_CLOEXEC and the like, 0 when none // a 64-bit value in two registers, low word first (the second is "skip")

const SIGNATURES: Record<string, Arg[]> = {
  openat: ["dirfd", "path", "oflags", "mode"], close: ["fd"], read: ["fd", "outbuf", "uint"], write: ["fd", "inbuf", "uint"],
  pread64: ["fd", "outbuf", "uint", "off64", "skip"], pwrite64: ["fd", "inbuf", "uint", "off64", "skip"],
  readv: ["fd", "ptr", "int"], writev: ["fd", "ptr", "int"], llseek: ["fd", "uint", "uint", "ptr", "whence"],
  statx: ["dirfd", "path", "atflags", "hex", "ptr"], fstat64: ["fd", "ptr"], fstatat64: ["dirfd", "path", "ptr", "atflags"],
  mkdirat: ["dirfd", "path", "mode"], unlinkat: ["dirfd", "path", "atflags"], renameat: ["dirfd", "path", "dirfd", "path"],
  renameat2: ["dirfd", "path", "dirfd", "path", "uint"], linkat: ["dirfd", "path", "dirfd", "path", "atflags"],
  symlinkat: ["path", "dirfd", "path"], readlinkat: ["dirfd", "path", "outstr", "uint"], faccessat: ["dirfd", "path", "access"], faccessat2: ["dirfd", "path", "access", "atflags"], flock: ["fd", "int"],
  fchmodat: ["dirfd", "path", "mode"], fchownat: ["dirfd", "path", "int", "int", "atflags"], fchmod: ["fd", "mode"], fchown: ["fd", "int", "int"],
  chdir: ["path"], fchdir: ["fd"], getcwd: ["outstr", "uint"], execve: ["path", "ptr", "ptr"], truncate64: ["path", "off64", "skip"],
  ftruncate64: ["fd", "off64", "skip"], fsync: ["fd"], fdatasync: ["fd"], getdents64: ["fd", "ptr", "uint"],
  statfs64: ["path", "uint", "ptr"], fstatfs64: ["fd", "uint", "ptr"], utimensat_time64: ["dirfd", "path", "ptr", "atflags"],
  mmap: ["hex", "uint", "prot", "mapflags", "fd", "hex"], munmap: ["hex", "uint"], mprotect: ["hex", "uint", "prot"], brk: ["hex"],
  mremap: ["hex", "uint", "uint", "hex", "hex"], madvise: ["hex", "uint", "int"],
  ioctl: ["fd", "ioctl", "ptr"], dup: ["fd"], dup3: ["fd", "fd", "fdflags"], pipe2: ["ptr", "fdflags"], fcntl64: ["fd", "fcntl", "hex"],
  exit: ["int"], exit_group: ["int"], kill: ["int", "signal"], tkill: ["int", "signal"], tgkill: ["int", "int", "signal"],
  rt_sigaction: ["signal", "ptr", "ptr", "uint"], rt_sigprocmask: ["int", "ptr", "ptr", "uint"], rt_sigreturn: [],
  wait4: ["int", "ptr", "int", "ptr"], clone: ["hex", "hex", "ptr", "ptr", "ptr"], getpid: [], getppid: [], gettid: [],
  getuid: [], geteuid: [], getgid: [], getegid: [], set_tid_address: ["ptr"], set_robust_list: ["ptr", "uint"], get_robust_list: ["int", "ptr", "ptr"], uname: ["ptr"],
  futex_time64: ["ptr", "futexop", "int", "ptr", "ptr", "hex"], membarrier: ["int", "int"], rt_sigtimedwait_time64: ["ptr", "ptr", "ptr", "uint"],
  rt_sigsuspend: ["ptr", "uint"], rt_sigpending: ["ptr", "uint"],
  clock_gettime64: ["clock", "ptr"], clock_getres_time64: ["clock", "ptr"], clock_nanosleep_time64: ["clock", "int", "ptr", "ptr"],
  nanosleep: ["ptr", "ptr"], gettimeofday: ["ptr", "ptr"], getrandom: ["ptr", "uint", "hex"], umask: ["mode"], sync: [],
  socket: ["sockdomain", "socktype", "int"], socketpair: ["sockdomain", "socktype", "int", "ptr"],
  bind: ["fd", "sockaddr", "uint"], connect: ["fd", "sockaddr", "uint"], listen: ["fd", "int"],
  accept: ["fd", "ptr", "ptr"], accept4: ["fd", "ptr", "ptr", "socktype"], shutdown: ["fd", "shut"],
  sendto: ["fd", "inbuf", "uint", "msgflags", "sockaddr", "uint"], recvfrom: ["fd", "outbuf", "uint", "msgflags", "ptr", "ptr"],
  sendmsg: ["fd", "ptr", "msgflags"], recvmsg: ["fd", "ptr", "msgflags"], getsockname: ["fd", "ptr", "ptr"], getpeername: ["fd", "ptr", "ptr"],
  setsockopt: ["fd", "sockopt", "int", "ptr", "uint"], getsockopt: ["fd", "sockopt", "int", "ptr", "ptr"],
  prlimit64: ["int", "int", "ptr", "ptr"], prctl: ["prctl", "hex"], sched_yield: [], sched_getaffinity: ["int", "uint", "ptr"],
  sysinfo: ["ptr"], times: ["ptr"], getrusage: ["int", "ptr"], getpgid: ["int"], setpgid: ["int", "int"], setsid: [], getsid: ["int"],
};

const FUTEX_OPS = ["FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE", "FUTEX_WAKE_OP", "FUTEX_LOCK_PI",
  "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI", "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET"];

const SHOWN = 32; // bytes of a buffer or string shown, as strace's default -s 32

/** Flags as NAME|NAME|0x..., from [bit, name] pairs. */
function flagNames(value: number, names: Array<[number, string]>, zero = "0"): string {
  const parts: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of names) if ((rest & bit) === bit && bit !== 0) { parts.push(name); rest = (rest & ~bit) >>> 0; }
  if (rest) parts.push(hex(rest));
  return parts.length ? parts.join("|") : zero;
}

const O_FLAGS: Array<[number, string]> = [
  [0o100, "O_CREAT"], [0o200, "O_EXCL"], [0o400, "O_NOCTTY"], [0o1000, "O_TRUNC"], [0o2000, "O_APPEND"], [0o4000, "O_NONBLOCK"],
  [0o10000, "O_DSYNC"], [0o20000, "O_ASYNC"], [0o40000, "O_DIRECT"], [0o100000, "O_LARGEFILE"], [0o200000, "O_DIRECTORY"],
  [0o400000, "O_NOFOLLOW"], [0o1000000, "O_NOATIME"], [0o2000000, "O_CLOEXEC"], [0o10000000, "O_PATH"],
];
const openFlags = (v: number) => {
  const rest = flagNames(v & ~3, O_FLAGS, "");
  return ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][v & 3] + (rest ? `|${rest}` : "");
};
const AT_FLAGS: Array<[number, string]> = [[0x100, "AT_SYMLINK_NOFOLLOW"], [0x200, "AT_REMOVEDIR"], [0x400, "AT_SYMLINK_FOLLOW"], [0x800, "AT_NO_AUTOMOUNT"], [0x1000, "AT_EMPTY_PATH"]];
const PROT: Array<[number, string]> = [[1, "PROT_READ"], [2, "PROT_WRITE"], [4, "PROT_EXEC"]];
const MAP: Array<[number, string]> = [[1, "MAP_SHARED"], [2, "MAP_PRIVATE"], [0x10, "MAP_FIXED"], [0x20, "MAP_ANONYMOUS"], [0x100, "MAP_GROWSDOWN"], [0x4000, "MAP_NORESERVE"], [0x8000, "MAP_POPULATE"], [0x20000, "MAP_STACK"], [0x100000, "MAP_FIXED_NOREPLACE"]];
const CLOCKS = ["CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME"];
const SIGNALS = ["0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"];
const FCNTL: Record<number, string> = { 0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN", 12: "F_GETLK64", 13: "F_SETLK64", 14: "F_SETLKW64", 1030: "F_DUPFD_CLOEXEC", 1032: "F_GETPIPE_SZ" };
const IOCTL: Record<number, string> = {
  0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF", 0x5409: "TCSBRK", 0x540a: "TCXONC", 0x540b: "TCFLSH",
  0x540e: "TIOCSCTTY", 0x540f: "TIOCGPGRP", 0x5410: "TIOCSPGRP", 0x5411: "TIOCOUTQ", 0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ",
  0x541b: "FIONREAD", 0x5422: "TIOCNOTTY", 0x5429: "TIOCGSID",
};

const DOMAINS: Record<number, string> = { 0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6" };
const SOCK_TYPES: Record<number, string> = { 1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 5: "SOCK_SEQPACKET" };
const MSG_FLAGS: Array<[number, string]> = [[1, "MSG_OOB"], [2, "MSG_PEEK"], [0x20, "MSG_TRUNC"], [0x40, "MSG_DONTWAIT"], [0x80, "MSG_EOR"], [0x100, "MSG_WAITALL"], [0x4000, "MSG_NOSIGNAL"], [0x8000, "MSG_MORE"]];

/** A socket address as strace shows it: {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}. */
function sockaddrAt(c: SyscallContext, address: number, length: number): string {
  if (address === 0) return "NULL";
  const raw = length >= 2 && length <= 128 ? c.space.read(address, length) : null;
  if (!raw) return hex(address);
  const family = raw[0] | (raw[1] << 8);
  const name = DOMAINS[family] ?? String(family);
  if (family === 1 && length > 2) {
    const path = raw.subarray(2);
    if (path[0] === 0) return `{sa_family=AF_UNIX, sun_path=@${quoted(path.subarray(1))}}`;
    const nul = path.indexOf(0);
    return `{sa_family=AF_UNIX, sun_path=${quoted(nul < 0 ? path : path.subarray(0, nul))}}`;
  }
  if (family === 2 && length >= 8) {
    return `{sa_family=AF_INET, sin_port=htons(${(raw[2] << 8) | raw[3]}), sin_addr=inet_addr("${raw[4]}.${raw[5]}.${raw[6]}.${raw[7]}")}`;
  }
  return `{sa_family=${name}}`;
}

/** A C string literal of `bytes`, cut at SHOWN with "..." after, as strace prints it. */
export function quoted(bytes: Uint8Array, more = false): string {
  let s = '"';
  for (const b of bytes.subarray(0, SHOWN)) {
    if (b === 0x22 || b === 0x5c) s += "\\" + String.fromCharCode(b);
    else if (b === 10) s += "\\n";
    else if (b === 9) s += "\\t";
    else if (b === 13) s += "\\r";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += "\\" + b.toString(8);
  }
  return s + '"' + (more || bytes.length > SHOWN ? "..." : "");
}

function stringAt(c: SyscallContext, address: number): string {
  if (address === 0) return "NULL";
  const s = c.space.readString(address, 4096);
  return s === null ? hex(address) : quoted(Buffer.from(s));
}

function bufferAt(c: SyscallContext, address: number, length: number): string {
  if (length <= 0) return '""';
  const bytes = c.space.read(address, Math.min(length, SHOWN));
  return bytes ? quoted(bytes, length > SHOWN) : hex(address);
}

function argument(c: SyscallContext, kind: Arg, value: number, next: number, result: number | undefined): string {
  const signed = value | 0;
  switch (kind) {
    case "int": case "fd": return String(signed);
    case "uint": return String(value >>> 0);
    case "dirfd": return signed === -100 ? "AT_FDCWD" : String(signed);
    case "path": case "instr": return stringAt(c, value);
    case "inbuf": return bufferAt(c, value, next >>> 0);
    case "outbuf": return result !== undefined && result >= 0 ? bufferAt(c, value, result) : hex(value);
    case "outstr": {
      if (result === undefined || result < 0) return hex(value);
      const bytes = c.space.read(value, Math.min(result, SHOWN + 1));
      if (!bytes) return hex(value);
      const nul = bytes.indexOf(0);
      return quoted(nul >= 0 ? bytes.subarray(0, nul) : bytes.subarray(0, SHOWN), nul < 0 && result > SHOWN);
    }
    case "fdflags": return flagNames(value, O_FLAGS);
    case "oflags": return openFlags(value);
    case "mode": return "0" + (value >>> 0).toString(8);
    case "atflags": return flagNames(value, AT_FLAGS);
    case "prot": return flagNames(value, PROT, "PROT_NONE");
    case "mapflags": return flagNames(value, MAP);
    case "whence": return ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"][value] ?? String(value);
    case "clock": return CLOCKS[value] ?? String(signed);
    case "signal": return SIGNALS[value] ?? (value >= 34 && value <= 64 ? `SIGRT_${value - 32}` : String(signed));
    case "fcntl": return FCNTL[value] ?? String(value);
    case "ioctl": return IOCTL[value] ?? hex(value);
    case "access": return value === 0 ? "F_OK" : flagNames(value, [[4, "R_OK"], [2, "W_OK"], [1, "X_OK"]]);
    case "ptr": return value === 0 ? "NULL" : hex(value);
    case "off64": return String((BigInt(next | 0) << 32n) | BigInt(value >>> 0));
    case "sockdomain": return DOMAINS[value] ?? String(signed);
    case "socktype": {
      const base = SOCK_TYPES[value & 0xf];
      const rest = flagNames(value & ~0xf, [[0o4000, "SOCK_NONBLOCK"], [0o2000000, "SOCK_CLOEXEC"]], "");
      return base ? base + (rest ? `|${rest}` : "") : rest || "0";
    }
    case "sockaddr": return sockaddrAt(c, value, next >>> 0);
    case "msgflags": return flagNames(value, MSG_FLAGS);
    case "shut": return ["SHUT_RD", "SHUT_WR", "SHUT_RDWR"][value] ?? String(signed);
    case "sockopt": return value === 1 ? "SOL_SOCKET" : value === 6 ? "SOL_TCP" : String(signed);
    case "futexop": {
      const name = FUTEX_OPS[value & 127] ?? String(value & 127);
      return name + (value & 128 ? "_PRIVATE" : "") + (value & 256 ? "|FUTEX_CLOCK_REALTIME" : "");
    }
    case "prctl": return value === 15 ? "PR_SET_NAME" : value === 16 ? "PR_GET_NAME" : String(signed);
    default: return hex(value);
  }
}

const ADDRESS_RESULTS = new Set(["mmap", "brk", "mremap"]);

/** The result part, " = 3" or " = -1 ENOENT (No such file or directory)". */
function resultText(name: string, outcome: SyscallOutcome): string {
  if (outcome.kind === "exit") return " = ?";
  if (outcome.kind === "jumped") return name === "execve" ? " = 0" : " = ?";
  if (outcome.kind !== "return") return " = ?";
  const v = outcome.value | 0;
  if (v < 0 && v > -4096) {
    const [errname, message] = ERRNO_NAMES[-v] ?? [`E${-v}`, "Unknown error"];
    return ` = -1 ${errname} (${message})`;
  }
  return ADDRESS_RESULTS.has(name) ? ` = ${hex(v)}` : ` = ${name === "getrandom" || v >= 0 ? v : v >>> 0}`;
}

/** One strace line for system call `number` of the process `c`, after it ran. */
export function formatSyscall(c: SyscallContext, number: number, args: number[], outcome: SyscallOutcome, showPid: boolean): string {
  const known = syscallName(number);
  const name = known.startsWith("syscall ") ? `syscall_${hex(number)}` : known;
  const result = outcome.kind === "return" ? outcome.value | 0 : undefined;
  let signature = SIGNATURES[name];
  let shown: string[];
  if (!signature || outcome.kind === "jumped") {
    // The new program has replaced the strings execve read: only its numbers are left.
    shown = args.slice(0, signature?.length ?? 3).map((a) => hex(a));
  } else {
    if (name === "openat" && !(args[2] & 0o100) && !(args[2] & 0o20000000)) signature = signature.slice(0, 3); // the mode only with O_CREAT or O_TMPFILE
    shown = signature.flatMap((kind, i) => (kind === "skip" ? [] : [argument(c, kind, args[i], args[i + 1] ?? 0, result)]));
  }
  const pid = showPid ? `[pid ${c.pid}] ` : "";
  const line = `${pid}${name}(${shown.join(", ")})${resultText(name, outcome)}`;
  return outcome.kind === "exit" ? `${line}\n${pid}+++ exited with ${outcome.code & 0xff} +++` : line;
}
