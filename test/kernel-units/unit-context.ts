// A system call context without a hart: an address space over a plain buffer
// and a descriptor table over a directory, for calling the syscall layer directly.
import { AddressSpace, type PhysicalMemory } from "../../src/kernel/address-space.js";
import { FileTable } from "../../src/kernel/files.js";
import { Frames } from "../../src/kernel/frames.js";
import type { Kernel } from "../../src/kernel/kernel.js";
import { OpenFiles } from "../../src/kernel/open-files.js";
import type { ProcessClock, ProcessConsole, SyscallContext } from "../../src/kernel/syscalls.js";

export function memoryOver(ram: Uint8Array): PhysicalMemory {
  return { ram: () => ram, ramGuestBase: 0x80000000, wrote: () => {}, flushTranslations: () => {} };
}

export function spaceOver(ram: Uint8Array): AddressSpace {
  return new AddressSpace(new Frames(memoryOver(ram), ram.length / 4096));
}

/** A context for process 1000 with `space` and a table whose 0/1/2 are `console`. */
export function unitContext(space: AddressSpace, root: string, clock: ProcessClock, console: ProcessConsole): SyscallContext {
  const openFiles = new OpenFiles();
  // The parts of a kernel that calls on files, memory and time reach for (none of them forks, signals or pipes).
  const kernel = { openFiles, tasks: new Map(), pipes: new Map(), notify: () => {} } as unknown as Kernel;
  return { kernel, space, files: FileTable.withConsole(root, openFiles), pid: 1000, sleepDeadline: undefined, clock, console };
}
