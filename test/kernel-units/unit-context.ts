// A system call context without a hart: an address space over a plain buffer
// and a descriptor table over a directory, for calling the syscall layer directly.
import { AddressSpace, type PhysicalMemory } from "../../src/kernel/address-space.js";
import { FileTable } from "../../src/kernel/files.js";
import { Frames } from "../../src/kernel/frames.js";
import type { Kernel } from "../../src/kernel/kernel.js";
import { OpenFiles } from "../../src/kernel/open-files.js";
import { guestAddress } from "../../src/kernel/sockets/addresses.js";
import { LocalNames } from "../../src/kernel/sockets/names.js";
import { Sockets } from "../../src/kernel/sockets/table.js";
import { runSyscall, type ProcessClock, type ProcessConsole, type SyscallContext } from "../../src/kernel/syscalls.js";

export function memoryOver(ram: Uint8Array): PhysicalMemory {
  return { ram: () => ram, ramGuestBase: 0x80000000, wrote: () => {}, flushTranslations: () => {} };
}

export function spaceOver(ram: Uint8Array): AddressSpace {
  return new AddressSpace(new Frames(memoryOver(ram), ram.length / 4096));
}

/** A console with no input and no terminal that drops what is written; `over` replaces any of its parts. */
export function quietConsole(over: Partial<ProcessConsole> = {}): ProcessConsole {
  return { write: () => {}, read: () => null, hasInput: () => false, isTerminal: () => false, windowSize: () => null, ...over };
}

/** A context for process 1000 with `space` and a table whose 0/1/2 are `console`. */
export function unitContext(space: AddressSpace, root: string, clock: ProcessClock, console: ProcessConsole): SyscallContext {
  const openFiles = new OpenFiles();
  // The parts of a kernel that calls on files, memory, time and sockets reach for (none of them forks, signals or pipes).
  const sockets = new Sockets(new LocalNames(), guestAddress("unit"), () => {});
  openFiles.onLastClose = (file) => { const socket = file.kind === "socket" ? sockets.get(file.socket!) : undefined; if (socket) sockets.close(socket); };
  const fake = { openFiles, tasks: new Map(), pipes: new Map(), sockets, notify: () => {}, yields: 0, yieldHart: () => { fake.yields++; } };
  const kernel = fake as unknown as Kernel;
  return { kernel, space, files: FileTable.withConsole(root, openFiles), pid: 1000, sleepDeadline: undefined, clock, console };
}

/** System call `n` with up to six arguments in `c` (unsigned, as a0..a5 hold them); its return value, or an error if it blocked. */
export function callIn(c: SyscallContext, n: number, ...args: number[]): number {
  const r = runSyscall(c, n, [...args, 0, 0, 0, 0, 0, 0].slice(0, 6).map((v) => v >>> 0));
  if (!r || r.kind !== "return") throw new Error(`syscall ${n}: ${JSON.stringify(r)}`);
  return r.value;
}
