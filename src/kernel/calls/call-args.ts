// What every area of system calls needs: guest strings, and host or sandbox
// errors turned into -errno.

import { Errno, errnoOf } from "../errno.js";
import { SandboxError } from "../files.js";
import type { SyscallContext, SyscallOutcome } from "../syscalls.js";
import type { Task } from "../task.js";

/**
 * A system call: its arguments a0..a5 as the registers hold them (unsigned 32-bit), each a parameter of its own, as
 * Linux's SYSCALL_DEFINEn names them. Not an array destructured in the parameter list: V8 runs a handler that has
 * not been optimised yet (most of them, most of the time) through the array's iterator, objects per call (BusyBox
 * md5sum's 9.7 k reads: ~10 ms of its profile in the read handler alone).
 */
export type Handler = (c: SyscallContext, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number) => SyscallOutcome | number;

/** Runs `body`, turning sandbox and host file-system errors into -errno. */
export function guarded<T extends number | SyscallOutcome>(body: () => T): T | number {
  try {
    return body();
  } catch (error) {
    return errnoOfThrown(error);
  }
}

/** What guarded returns for `error`: -errno for a sandbox or host file-system error; anything else is thrown again. */
export function errnoOfThrown(error: unknown): number {
  if (error instanceof SandboxError) return -error.errno;
  if ((error as NodeJS.ErrnoException)?.code) return -errnoOf(error);
  throw error;
}

/** A guest path string, or -EFAULT. */
export function pathArg(c: SyscallContext, address: number): string | number {
  const p = c.space.readString(address);
  return p === null ? -Errno.EFAULT : p;
}

/** A call on one guest path string: what `body` returns (0 if nothing), or -errno. */
export function withPath(c: SyscallContext, pointer: number, body: (path: string) => number | void): number {
  const path = pathArg(c, pointer);
  return typeof path === "number" ? path : guarded(() => body(path) ?? 0);
}

/** A 64-bit argument that riscv32 passes as two registers, low word first. */
export function u64Arg(low: number, high: number): number {
  return Number((BigInt(high | 0) << 32n) | BigInt(low >>> 0));
}

/** The task making the call. */
export const callerOf = (c: SyscallContext): Task => c.kernel.tasks.get(c.pid)!;

/** Little-endian bytes of u32 (or i32) values. */
export function u32Bytes(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return out;
}
