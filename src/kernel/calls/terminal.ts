// The terminal's calls: ioctl(2) of a terminal (ioctl_tty(2), termios(3),
// tcsetpgrp(3)) and the job control checks of its reads and writes. A shell
// with job control puts each job in a process group of its own and gives the
// terminal to the one in the foreground (TIOCSPGRP); the keyboard's signals go
// to that group, and a process of another group of the session that reads the
// terminal gets SIGTTIN ("a background process group", credentials(7)), as one
// that changes its settings gets SIGTTOU. The line discipline is ../terminal.ts.

import { Errno } from "../errno.js";
import { bit, SIG_IGN, SIGCONT, SIGHUP, SIGTTIN, SIGTTOU } from "../signals.js";
import { callerOf, u32Bytes } from "./call-args.js";
import { defaultTermios, NCCS, TOSTOP, type Terminal, type Termios } from "../terminal.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import type { Task } from "../task.js";

export const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCSBRK = 0x5409, TCXONC = 0x540a,
  TCFLSH = 0x540b, TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCOUTQ = 0x5411, TIOCGWINSZ = 0x5413,
  TIOCSWINSZ = 0x5414, FIONREAD = 0x541b, TIOCNOTTY = 0x5422, TIOCGSID = 0x5429;
const TERMIOS_BYTES = 17 + NCCS; // struct termios as the kernel copies it: four flags, c_line, c_cc[NCCS]

const self = callerOf;

/** ioctl(2) of the guest's terminal (fd 0, 1, 2 or /dev/tty when the host's is one). */
export function terminalIoctl(c: SyscallContext, request: number, arg: number): number | SyscallOutcome {
  const tty = c.kernel.terminal;
  if (!tty) return fixedTerminalIoctl(c, request, arg);
  const caller = self(c);
  const controlling = caller.sid === tty.session;
  switch (request) {
    case TCGETS: return c.space.write(arg, termiosBytes(tty.termios)) ? 0 : -Errno.EFAULT;
    case TCSETS: case TCSETSW: case TCSETSF: {
      const bytes = c.space.read(arg, TERMIOS_BYTES);
      if (!bytes) return -Errno.EFAULT;
      // "tcsetattr() ... from a background process group ... SIGTTOU is sent" (tty_check_change).
      const stop = backgroundCheck(c, SIGTTOU);
      if (stop !== 0) return stop;
      if (request === TCSETSF) tty.flushInput(); // "the input ... received but not read is discarded"
      tty.setTermios(termiosOf(bytes));
      return 0;
    }
    case TIOCGPGRP:
      // "ENOTTY: the calling process does not have a controlling terminal, or it has one but it is not described by fd"
      if (!controlling) return -Errno.ENOTTY;
      return c.space.write(arg, u32Bytes(tty.foreground)) ? 0 : -Errno.EFAULT;
    case TIOCSPGRP: return setForeground(c, tty, arg);
    case TIOCGSID:
      if (!controlling) return -Errno.ENOTTY;
      return c.space.write(arg, u32Bytes(tty.session)) ? 0 : -Errno.EFAULT;
    case TIOCSCTTY:
      // "The calling process must be a session leader and not have a controlling terminal already."
      if (controlling) return 0;
      if (caller.sid !== caller.tgid) return -Errno.EPERM;
      if (sessionAlive(c, tty.session) && arg !== 1) return -Errno.EPERM; // "the terminal is ... another session's"
      tty.session = caller.sid;
      tty.foreground = caller.pgid;
      return 0;
    case TIOCNOTTY: {
      if (!controlling) return -Errno.ENOTTY;
      // "If the process was session leader, then send SIGHUP and SIGCONT to the foreground process group and all
      // processes in the current session lose their controlling terminal." A member alone keeps it here.
      if (caller.sid === caller.tgid) {
        c.kernel.signalGroup(tty.foreground, SIGHUP);
        c.kernel.signalGroup(tty.foreground, SIGCONT);
        tty.session = 0;
      }
      return 0;
    }
    case TIOCGWINSZ: return c.space.write(arg, winsize(tty.rows, tty.columns)) ? 0 : -Errno.EFAULT;
    case TIOCSWINSZ: {
      const bytes = c.space.read(arg, 8);
      if (!bytes) return -Errno.EFAULT;
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      c.kernel.resizeTerminal(v.getUint16(0, true), v.getUint16(2, true));
      return 0;
    }
    case FIONREAD: return c.space.write(arg, u32Bytes(tty.queuedBytes())) ? 0 : -Errno.EFAULT;
    case TIOCOUTQ: return c.space.write(arg, u32Bytes(0)) ? 0 : -Errno.EFAULT; // written through at once: nothing waits
    case TCFLSH:
      if (arg < 0 || arg > 2) return -Errno.EINVAL;
      if (arg !== 1) tty.flushInput(); // TCIFLUSH, TCIOFLUSH
      return 0;
    case TCSBRK: case TCXONC: return 0; // tcdrain, tcsendbreak, tcflow: output is never held back here
  }
  return -Errno.ENOTTY; // "Unknown request" is ENOTTY for a terminal's ioctl too (tty_ioctl's default)
}

/** tcsetpgrp(3): "EPERM: pgrp has a supported value, but is not the process group ID of a process in the same session". */
function setForeground(c: SyscallContext, tty: Terminal, arg: number): number | SyscallOutcome {
  const caller = self(c);
  if (caller.sid !== tty.session) return -Errno.ENOTTY;
  const bytes = c.space.read(arg, 4);
  if (!bytes) return -Errno.EFAULT;
  const pgid = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true);
  if (pgid < 0) return -Errno.EINVAL;
  const stop = backgroundCheck(c, SIGTTOU);
  if (stop !== 0) return stop;
  // Linux's tiocspgrp: no such group is ESRCH, a group of another session EPERM.
  const members = [...c.kernel.tasks.values()].filter((t) => t.pgid === pgid && t.status !== "zombie");
  if (members.length === 0) return -Errno.ESRCH;
  if (!members.some((t) => t.sid === caller.sid)) return -Errno.EPERM;
  tty.foreground = pgid;
  return 0;
}

/**
 * Linux's tty_check_change: a process of the terminal's session outside its foreground group that reads it (SIGTTIN)
 * or changes it (SIGTTOU; a write with TOSTOP) gets the signal, for its whole group, and the call runs again once it
 * is continued. A read with SIGTTIN ignored or blocked, or from an orphaned group, fails with EIO; a change with
 * SIGTTOU ignored or blocked goes ahead. 0 when the call may go on.
 */
export function backgroundCheck(c: SyscallContext, sig: number): number | SyscallOutcome {
  const tty = c.kernel.terminal;
  const caller = self(c);
  if (!tty || caller.sid !== tty.session || caller.pgid === tty.foreground) return 0;
  const signals = caller.signals;
  if (signals.action(sig).handler === SIG_IGN || signals.mask & bit(sig)) return sig === SIGTTIN ? -Errno.EIO : 0;
  if (orphaned(c, caller.pgid)) return -Errno.EIO; // "if the process group is orphaned, read(2) fails with EIO"
  c.kernel.signalGroup(caller.pgid, sig);
  return { kind: "block-event" };
}

/** A read of the terminal: the line discipline's input, after the job control check. */
export function terminalRead(c: SyscallContext, tty: Terminal, count: number, nonBlocking: boolean): Uint8Array | number | SyscallOutcome {
  const stop = backgroundCheck(c, SIGTTIN);
  if (stop !== 0) return stop;
  const bytes = tty.read(count);
  if (bytes) return bytes;
  return nonBlocking ? -Errno.EAGAIN : { kind: "block-input" };
}

/** A write to the terminal with TOSTOP set, from a background process: SIGTTOU ("tostop" in stty(1)). */
export function terminalWriteCheck(c: SyscallContext): number | SyscallOutcome {
  const tty = c.kernel.terminal;
  return tty && tty.termios.lflag & TOSTOP ? backgroundCheck(c, SIGTTOU) : 0;
}

/**
 * "A process group in which the parent of every member is either itself a member of the group or is not a member of
 * the group's session" (POSIX). The group of the guest's first process is not: its parent is the host's shell.
 */
function orphaned(c: SyscallContext, pgid: number): boolean {
  const k = c.kernel;
  for (const t of k.tasks.values()) {
    if (t.pgid !== pgid || t.status === "zombie") continue;
    if (t.pid === k.firstPid) return false;
    const parent = k.tasks.get(t.ppid);
    if (parent && parent.pgid !== pgid && parent.sid === t.sid) return false;
  }
  return true;
}

function sessionAlive(c: SyscallContext, sid: number): boolean {
  return [...c.kernel.tasks.values()].some((t) => t.sid === sid && t.status !== "zombie");
}

/** Without a line discipline (a console that is a terminal but gives no keys: tests' consoles): a cooked terminal. */
function fixedTerminalIoctl(c: SyscallContext, request: number, arg: number): number {
  if (request === TCGETS) return c.space.write(arg, termiosBytes(defaultTermios())) ? 0 : -Errno.EFAULT;
  if (request === TIOCGWINSZ) {
    const size = c.console.windowSize() ?? { rows: 24, columns: 80 };
    return c.space.write(arg, winsize(size.rows, size.columns)) ? 0 : -Errno.EFAULT;
  }
  return -Errno.ENOTTY;
}

function termiosBytes(t: Termios): Uint8Array {
  const out = new Uint8Array(TERMIOS_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, t.iflag, true); v.setUint32(4, t.oflag, true); v.setUint32(8, t.cflag, true); v.setUint32(12, t.lflag, true);
  out[16] = t.line;
  out.set(t.cc, 17);
  return out;
}

function termiosOf(bytes: Uint8Array): Termios {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { iflag: v.getUint32(0, true), oflag: v.getUint32(4, true), cflag: v.getUint32(8, true), lflag: v.getUint32(12, true), line: bytes[16], cc: bytes.slice(17, 17 + NCCS) };
}

function winsize(rows: number, columns: number): Uint8Array {
  const w = new Uint8Array(8);
  const v = new DataView(w.buffer);
  v.setUint16(0, rows, true); v.setUint16(2, columns, true);
  return w;
}
