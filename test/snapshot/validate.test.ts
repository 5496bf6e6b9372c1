// Every section of a snapshot is checked before any of it reaches the core, the
// kernel or a device: a damaged field (with a valid checksum around it) is
// refused with `bad snapshot: <field path>: <why>`, naming exactly that field.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CSR_MSTATUS, CSR_SATP, STATE_EXIT_KIND, STATE_EXIT_SIZE, STATE_FLAGS, STATE_HOST_TRAPS, STATE_MMIO_PENDING, STATE_PRIV, STATE_RAM_BYTES } from "../../assembly/layout.js";
import { Core } from "../../src/machine/core.js";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { MachineGuest } from "../../src/guest/machine-guest.js";
import { applyChanges, changesSince, sameValue } from "../../src/snapshot/changes.js";
import { decodeSnapshot, encodeSnapshot, SnapshotError, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { u32Bytes, u32s } from "../../src/kernel/frames.js";
import { familySnapshot, fixtureRoot, frame, machineSnapshot, payloadOf, processSnapshot, type Payload } from "./fixtures.js";
import { openFileAt, openFileIndex } from "./open-files.js";
import { asVersion1 } from "./version1.js";

afterAll(() => rmSync(fixtureRoot, { recursive: true, force: true }));

let processGood: GuestSnapshot;
let machineGood: GuestSnapshot;
let familyGood: GuestSnapshot;
beforeAll(async () => {
  processGood = await processSnapshot();
  machineGood = await machineSnapshot();
  const family = await familySnapshot();
  family.guest.kill();
  familyGood = family.snapshot;
  // The cases below name the family's pids and descriptions: the snapshot must be the one they were written for.
  expect(familyGood.process!.tasks.map((t) => [t.pid, t.ppid])).toEqual([[1000, 1], [1001, 1000]]);
  expect(familyGood.process!.current).toBe(1000);
  expect(familyGood.process!.openFiles.files.filter((f) => f.kind === "pipe").map((f) => [f.id, f.pipe])).toEqual([[4, 1], [5, 1], [6, 2], [7, 2]]);
});

/** Decodes `snapshot` with `damage` done to its payload; returns the message it was refused with. */
function refusal(snapshot: GuestSnapshot, damage: (p: Payload) => void): string {
  const payload = payloadOf(snapshot);
  damage(payload);
  try {
    decodeSnapshot(frame(payload));
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotError);
    return (error as Error).message;
  }
  throw new Error("the damaged snapshot was accepted");
}

function setHart(p: Payload, offset: number, value: number): void {
  new DataView(p.hart.buffer, p.hart.byteOffset, p.hart.byteLength).setUint32(offset, value >>> 0, true);
}

// Where the fixture's open files sit: fd 3 is /data.txt, fd 0 the terminal's stdin (their descriptions by id in openFiles).
const file3 = () => `process.openFiles.files[${openFileIndex(processGood.process!, 3).fileIndex}]`;
const at3 = (p: Payload) => p.process.openFiles.files[openFileIndex(p.process, 3).fileIndex];
const fd3 = (p: Payload) => openFileIndex(p.process, 3).fdIndex;
const space = "process.tasks[0].addressSpace";

const PROCESS_CASES: Array<[string, (p: Payload) => void, string | (() => string)]> = [
  ["a negative file position", (p) => { at3(p).position = -1; }, () => `${file3()}.position: not a non-negative integer`],
  ["a fractional file position", (p) => { at3(p).position = 1.5; }, () => `${file3()}.position: not a non-negative integer`],
  ["no file flags", (p) => { delete at3(p).flags; }, () => `${file3()}.flags: missing`],
  ["a file kind nobody knows", (p) => { at3(p).kind = "fifo"; }, () => `${file3()}.kind: "fifo" is not one of file, directory, terminal, pipe, device, forwarded, socket, proc`],
  ["a file path that climbs out", (p) => { at3(p).path = "/../etc/passwd"; }, () => `${file3()}.path: not an absolute, normalised guest path`],
  ["a regular file marked as a standard stream", (p) => { at3(p).terminal = 1; }, () => `${file3()}.terminal: a file is not a standard stream`],
  ["a terminal without its stream", (p) => { delete openFileAt(p.process, 0).terminal; }, () => `process.openFiles.files[${openFileIndex(processGood.process!, 0).fileIndex}].terminal: missing`],
  ["an fd open twice", (p) => { p.process.tasks[0].files.fds[fd3(p)][0] = 1; }, () => `process.tasks[0].files.fds[${fd3(payloadOf(processGood))}][0]: fd 1 is open twice`],
  ["an fd beyond the table", (p) => { p.process.tasks[0].files.fds[fd3(p)][0] = 5000; }, () => `process.tasks[0].files.fds[${fd3(payloadOf(processGood))}][0]: 5000 is not an integer in [0, 1023]`],
  ["a descriptor entry that is not a triple", (p) => { p.process.tasks[0].files.fds[fd3(p)] = [3]; }, () => `process.tasks[0].files.fds[${fd3(payloadOf(processGood))}]: not an [fd, open file, close-on-exec] triple`],
  ["a descriptor naming a description that is not there", (p) => { p.process.tasks[0].files.fds[fd3(p)][1] = 99; }, "process.tasks[0].files: fd 3 refers to open file 99, which is not there"],
  ["two descriptions with one id", (p) => { at3(p).id = 1; }, () => `${file3()}.id: 1 is used twice or not below nextId`],
  ["a relative working directory", (p) => { p.process.tasks[0].files.cwd = "../up"; }, "process.tasks[0].files.cwd: not an absolute, normalised guest path"],
  ["carried output that does not end where the output does", (p) => { p.console.outputOffset = 10; p.console.recentOutput = [{ offset: 0, stream: 1, data: new Uint8Array(3) }]; },
    "console.recentOutput: ends at byte 3, not at the output offset 10"],
  ["carried output with a gap", (p) => { p.console.outputOffset = 10; p.console.recentOutput = [{ offset: 0, stream: 1, data: new Uint8Array(3) }, { offset: 4, stream: 2, data: new Uint8Array(6) }]; },
    "console.recentOutput[1].offset: 4, where the output before it ends at 3"],
  ["a newer file table", (p) => { p.process.tasks[0].files.schemaVersion = 4; }, "process.tasks[0].files.schemaVersion: 4; this host reads version 3"],
  ["a newer kernel state", (p) => { p.process.schemaVersion = 3; }, "process.schemaVersion: 3 is not an integer in [2, 2]"],
  ["RAM size NaN", (p) => { p.guest.ramBytes = NaN; }, "guest.ramBytes: NaN is not an integer in [4096, 1073741824]"],
  ["RAM size over 1 GiB", (p) => { p.guest.ramBytes = 2 ** 31; }, "guest.ramBytes: 2147483648 is not an integer in [4096, 1073741824]"],
  ["RAM size not whole pages", (p) => { p.guest.ramBytes = 5000; }, "guest.ramBytes: 5000 is not a multiple of 4096"],
  ["a guest id that is not text", (p) => { p.guest.id = 7; }, "guest.id: not text (7)"],
  ["argv with a number", (p) => { p.guest.argv = ["x", 2]; }, "guest.argv[1]: not text (2)"],
  ["a guest root that is absolute", (p) => { p.guest.root = "/etc"; }, "guest.root: root /etc is absolute; name a directory within the host's root"],
  ["a guest root that climbs out", (p) => { p.guest.root = "a/../../b"; }, "guest.root: root a/../../b leads outside the host's root"],
  ["a guest root that is not text", (p) => { p.guest.root = 3; }, "guest.root: not text (3)"],
  ["a forwarding approach that is none of the four", (p) => { p.guest.forwarding = "carrier-pigeon"; }, 'guest.forwarding: "carrier-pigeon" is not one of resend, origin, traversal, update'],
  ["an origin that is not text", (p) => { p.guest.origin = 7; }, "guest.origin: not text (7)"],
  ["a hart block of the wrong size", (p) => { p.hart = p.hart.subarray(0, 100); }, "hart: 100 bytes; the hart state must be 512 bytes"],
  ["a hart whose RAM size disagrees", (p) => setHart(p, STATE_RAM_BYTES, 1 << 30), "hart.ramBytes: 1073741824, but guest.ramBytes is 4194304"],
  ["a process hart in M-mode", (p) => setHart(p, STATE_PRIV, 3), "hart.privilege: 3; a process-mode guest runs in U-mode (0)"],
  ["a hart at privilege 2", (p) => setHart(p, STATE_PRIV, 2), "hart.privilege: 2 is not U (0), S (1) or M (3)"],
  ["a process hart that keeps exceptions", (p) => setHart(p, STATE_HOST_TRAPS, 0), "hart.hostTraps: 0x0; a process-mode hart hands every exception to the kernel (0xffff)"],
  ["a process hart on other page tables", (p) => setHart(p, CSR_SATP, 0x80080999), "hart.satp: 0x80080999 is not the address space's root table (0x80080000)"],
  ["mstatus.MPP = 2", (p) => setHart(p, CSR_MSTATUS, 2 << 11), "hart.mstatus: MPP is 2, which is reserved"],
  ["unknown hart flags", (p) => setHart(p, STATE_FLAGS, 0x10), "hart.flags: 0x10 has unknown bits"],
  ["a pending device load into register 40", (p) => { setHart(p, STATE_MMIO_PENDING, 1); setHart(p, STATE_EXIT_SIZE, 4); setHart(p, STATE_EXIT_KIND, (40 << 8) | 1); }, "hart.exitKind: 0x2801 is not a pending load's kind and register"],
  ["a pending device load of 3 bytes", (p) => { setHart(p, STATE_MMIO_PENDING, 1); setHart(p, STATE_EXIT_SIZE, 3); setHart(p, STATE_EXIT_KIND, (5 << 8) | 1); }, "hart.exitSize: 3 is not 1, 2 or 4"],
  ["RAM data short of its pages", (p) => { p.ram.data = p.ram.data.subarray(4096); }, () => `ram.data: ${processGood.ram.data.length - 4096} bytes for ${processGood.ram.indices.length} pages`],
  ["a RAM page beyond RAM", (p) => { p.ram.indices = new Uint8Array(new Uint32Array([...processGood.ram.indices.slice(0, -1), 1024]).buffer); }, () => `ram.indices[${processGood.ram.indices.length - 1}]: page 1024 is beyond 1024 pages of RAM`],
  ["a negative output offset", (p) => { p.console.outputOffset = -5; }, "console.outputOffset: not a non-negative integer"],
  ["more input waiting than accepted", (p) => { p.console.pendingInput = new Uint8Array(10); p.console.inputOffset = 3; }, "console.pendingInput: 10 bytes waiting, more than the 3 ever accepted"],
  ["input ended as a number", (p) => { p.console.inputEnded = 1; }, "console.inputEnded: not true or false (1)"],
  ["no kernel state", (p) => { delete p.process; }, "process: missing"],
  ["device state on a process guest", (p) => { p.machine = { schemaVersion: 1 }; }, "machine: a process-mode guest has no device state"],
  ["a clock that is not a number", (p) => { p.process.guestClockNs = "12abc"; }, 'process.guestClockNs: "12abc" is not a decimal integer in [0, 2^64)'],
  ["a sleep deadline as a number", (p) => { p.process.tasks[0].sleepDeadlineNs = 12; }, "process.tasks[0].sleepDeadlineNs: not text (12)"],
  ["arguments beyond what execve takes", (p) => { p.process.tasks[0].argv = Array(20).fill("x".repeat(120_000)); }, "process.tasks[0].argv: more than 2 MiB of arguments"],
  ["an argument that is not text", (p) => { p.process.tasks[0].argv = ["prog", 7]; }, "process.tasks[0].argv[1]: not text (7)"],
  ["a pid of Infinity", (p) => { p.process.tasks[0].pid = Infinity; }, "process.tasks[0].pid: Infinity is not an integer in [1, 2147483647]"],
  ["a process on the hart that is not there", (p) => { p.process.current = 4242; }, "process.current: process 4242 is not in the process list"],
  ["a next pid already in use", (p) => { p.process.nextPid = p.process.tasks[0].pid; }, () => `process.nextPid: ${processGood.process!.tasks[0].pid} is not above every pid in use`],
  ["a syscall count that is not a pair", (p) => { p.process.syscalls = [["read"]]; }, "process.syscalls[0]: not a [name, count] pair"],
  ["overlapping regions", (p) => { p.process.tasks[0].addressSpace.regions[1].start = p.process.tasks[0].addressSpace.regions[0].start; }, () => `${space}.regions[1].start: 0x${spaceOf(processGood).regions[0].start.toString(16)} is not after the end of ${space}.regions[0]`],
  ["a region not page-aligned", (p) => { p.process.tasks[0].addressSpace.regions[0].end += 1; }, () => `${space}.regions[0].end: 0x${(spaceOf(processGood).regions[0].end + 1).toString(16)} is not page-aligned`],
  ["a region with protection -1", (p) => { p.process.tasks[0].addressSpace.regions[0].prot = -1; }, `${space}.regions[0].prot: -1 is not an integer in [0, 4294967295]`],
  ["a root table beyond RAM", (p) => { p.process.tasks[0].addressSpace.rootFrame = 1024; }, `${space}.rootFrame: 1024 is not an integer in [0, 1023]`],
  ["a next frame of -1", (p) => { p.process.frames.nextFrame = -1; }, "process.frames.nextFrame: -1 is not an integer in [0, 1024]"],
  ["a page journal of odd words", (p) => { p.process.tasks[0].addressSpace.pages = p.process.tasks[0].addressSpace.pages.subarray(4); }, () => `${space}.pages: ${spaceOf(processGood).pages.length - 4} bytes is not whole u32 pairs`],
  ["a page mapped to a frame beyond RAM", (p) => { setWord(p.process.tasks[0].addressSpace.pages, 1, 5000); }, `${space}.pages[0]: frame 5000 is beyond 1024 frames of RAM`],
  ["a page with no page table", (p) => { setWord(p.process.tasks[0].addressSpace.pages, 0, 0xfffff); }, `${space}.pages[0]: virtual page 1048575 has no page table`],
  ["two tables for one index", (p) => { p.process.tasks[0].addressSpace.tableFrames = twice(p.process.tasks[0].addressSpace.tableFrames); }, () => `${space}.tableFrames[${spaceOf(processGood).tableFrames.length / 8}]: a second table for level-1 index ${new DataView(spaceOf(processGood).tableFrames.buffer, spaceOf(processGood).tableFrames.byteOffset).getUint32(0, true)}`],
  ["a free frame beyond RAM", (p) => { p.process.frames.freeFrames = new Uint8Array(new Uint32Array([7, 99999]).buffer); }, () => `process.frames.freeFrames[1]: frame 99999 is beyond the ${processGood.process!.frames.nextFrame} frames handed out`],
  ["a frame free twice", (p) => { p.process.frames.freeFrames = new Uint8Array(new Uint32Array([7, 7]).buffer); }, "process.frames.freeFrames[1]: frame 7 is free twice"],
  ["a brk beyond 4 GiB", (p) => { p.process.tasks[0].addressSpace.brk = 2 ** 32; }, `${space}.brk: 4294967296 is not an integer in [0, 4294967295]`],
  ["an address space that is a list", (p) => { p.process.tasks[0].addressSpace = [1, 2]; }, `${space}: not a map`],
  ["a live process without an address space", (p) => { p.process.tasks[0].addressSpace = null; }, `${space}: a live process needs an address space`],
];

const spaceOf = (s: GuestSnapshot) => s.process!.tasks[0].addressSpace!;

// The family guest's tree: the parent (tasks[0], on the hart) and its child (tasks[1]), two pipes, frames shared by fork.
const FAMILY_CASES: Array<[string, (p: Payload) => void, string | (() => string)]> = [
  ["two processes with one pid", (p) => { p.process.tasks[1].pid = p.process.tasks[0].pid; }, "process.tasks[1].pid: pid 1000 twice"],
  ["a pipe end naming a pipe that is not there", (p) => { p.process.pipes.pop(); }, "process.openFiles: open file 6 is an end of pipe 2, which is not there"],
  ["two pipes with one id", (p) => { p.process.pipes[1].id = p.process.pipes[0].id; }, "process.pipes[1].id: pipe 1 twice"],
  ["a pipe id not below nextPipe", (p) => { p.process.nextPipe = 2; }, "process.nextPipe: 2 is not above every pipe id in use"],
  ["a pipe fuller than a pipe holds", (p) => { p.process.pipes[0].data = new Uint8Array(65537); }, "process.pipes[0].data: 65537 bytes in a pipe of 65536"],
  ["a process on the hart that is not in the list", (p) => { p.process.current = 1002; }, "process.current: process 1002 is not in the process list"],
  ["an ended process still holding its descriptors", (p) => { p.process.tasks[1].status = "zombie"; p.process.tasks[1].addressSpace = null; }, "process.tasks[1].files: process 1001 has ended, yet holds descriptors"],
  ["an ended process still holding its address space", (p) => { childEnded(p).process.tasks[1].addressSpace = payloadOf(familyGood).process.tasks[1].addressSpace; }, "process.tasks[1].addressSpace: process 1001 has ended, yet holds an address space"],
  ["an open file no descriptor refers to", (p) => { p.process.tasks[1].files.fds.pop(); }, "process.openFiles.files[5]: open file 6 is not referred to by any descriptor"],
  ["a vfork child sharing the space of a process that is not there", (p) => { p.process.tasks[1].sharesSpaceOf = 4242; p.process.tasks[1].addressSpace = null; }, "process.tasks[1].sharesSpaceOf: process 4242 is not there"],
  ["a vfork child sharing the space of a process that has none", (p) => { p.process.tasks[1].sharesSpaceOf = 1000; p.process.tasks[1].addressSpace = null; p.process.tasks[0].sharesSpaceOf = 1001; p.process.tasks[0].addressSpace = null; },
    "process.tasks[0].sharesSpaceOf: process 1001 has no address space of its own to share"],
  ["a process sharing a space and holding one", (p) => { p.process.tasks[1].sharesSpaceOf = 1000; }, "process.tasks[1].addressSpace: process 1001 shares the space of 1000, and has one of its own"],
  ["a vfork parent waiting for a process that is not its vfork child", (p) => { p.process.tasks[0].vforkChild = 1001; }, "process.tasks[0].vforkChild: process 1001 does not share the space of 1000"],
  ["a frame counted twice among the shared", (p) => { p.process.frames.shared = twice(p.process.frames.shared); }, () => `process.frames.shared[${u32s(familyGood.process!.frames.shared).length / 2}]: frame ${u32s(familyGood.process!.frames.shared)[0]} is counted twice`],
  ["a shared frame that is free", (p) => { p.process.frames.freeFrames = p.process.frames.shared.slice(0, 4); }, () => `process.frames.shared[0]: frame ${u32s(familyGood.process!.frames.shared)[0]} is free`],
  ["frames shared by fork counted once", (p) => { p.process.frames.shared = new Uint8Array(0); }, () => `process.frames: frame ${u32s(familyGood.process!.frames.shared)[0]} has 2 holders in the page tables, but the allocator counts 1`],
  ["a mapped frame on the free list", (p) => { p.process.frames.freeFrames = u32Bytes(Uint32Array.of(p.process.tasks[1].addressSpace.rootFrame)); }, () => `process.frames: frame ${familyGood.process!.tasks[1].addressSpace!.rootFrame} has 1 holder in the page tables, but the allocator counts 0`],
  // A free frame taken off the free list (pages take frames all over RAM, so the fixture has free frames below the mark).
  ["a frame handed out that nothing holds", (p) => { p.process.frames.freeFrames = p.process.frames.freeFrames.slice(4); }, () => `process.frames: frame ${u32s(familyGood.process!.frames.freeFrames)[0]} has no holder in the page tables, but the allocator counts 1`],
  ["a first process that is not there", (p) => { p.process.firstPid = 4242; }, "process.firstPid: process 4242 is not in the process list"],
  ["the child on the hart while the hart holds the parent's page tables", (p) => { p.process.current = p.process.tasks[1].pid; }, () => `hart.satp: 0x${(0x80080000 + familyGood.process!.tasks[0].addressSpace!.rootFrame).toString(16)} is not the address space's root table (0x${(0x80080000 + familyGood.process!.tasks[1].addressSpace!.rootFrame).toString(16)})`],
  ["registers of the wrong size", (p) => { p.process.tasks[1].registers = p.process.tasks[1].registers.subarray(4); }, "process.tasks[1].registers: 128 bytes; x0..x31 and pc are 132"],
  ["a thread of a leader that is not there", (p) => { p.process.tasks[1].tgid = 4242; }, "process.tasks[1].tgid: thread 1001's process leader 4242 is not there"],
  ["a thread whose leader is a thread itself", (p) => { p.process.tasks[0].tgid = 1001; p.process.tasks[1].tgid = 1000; }, "process.tasks[0].tgid: 1001 is a thread of process 1000, not a process's leader"],
  ["two threads of one process each holding a space", (p) => { p.process.tasks[1].tgid = 1000; }, "process.tasks[0].addressSpace: process 1000's threads do not name one of them as holding its space and descriptors"],
  ["a process pending set that is not a number", (p) => { p.process.tasks[0].signals.processPending = "x"; }, 'process.tasks[0].signals.processPending: "x" is not a decimal integer in [0, 2^64)'],
  ["a signal handler for signal 65", (p) => { p.process.tasks[0].signals.actions[0][0] = 65; }, "process.tasks[0].signals.actions[0][0]: 65 is not an integer in [1, 64]"],
];
function setWord(bytes: Uint8Array, index: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(index * 4, value, true);
}

function twice(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2);
  out.set(bytes);
  out.set(bytes, bytes.length);
  return out;
}

// A snapshot as the previous version wrote it (ProcessState v1: one process, its frame allocator in its address space).
const V1_CASES: Array<[string, (p: Payload) => void, string]> = [
  ["a negative file position", (p) => { p.process.files.files[3][1].position = -1; }, "process.files[3].position: not a non-negative integer"],
  ["an fd open twice", (p) => { p.process.files.files[3][0] = 1; }, "process.files.files[3][0]: fd 1 is open twice"],
  ["a pid of 0", (p) => { p.process.pid = 0; }, "process.pid: 0 is not an integer in [1, 2147483647]"],
  ["a free frame listed twice", (p) => { p.process.addressSpace.freeFrames = u32Bytes(Uint32Array.of(7, 7)); }, "process.addressSpace.freeFrames[1]: frame 7 is free twice"],
  ["a next frame beyond RAM", (p) => { p.process.addressSpace.nextFrame = 1025; }, "process.addressSpace.nextFrame: 1025 is not an integer in [0, 1024]"],
  ["a page with no page table", (p) => { setWord(p.process.addressSpace.pages, 0, 0xfffff); }, "process.addressSpace.pages[0]: virtual page 1048575 has no page table"],
];

/** The family's child (tasks[1]) as the kernel leaves it when it has ended: a zombie, its frames and descriptions given back. */
function childEnded(p: Payload): Payload {
  const [parent, child] = p.process.tasks;
  const held = [child.addressSpace.rootFrame, ...Array.from(u32s(child.addressSpace.tableFrames)).filter((_, i) => i % 2 === 1)];
  const pages = new Map<number, number>();
  const journal = u32s(child.addressSpace.pages);
  for (let i = 0; i < journal.length; i += 2) if (journal[i + 1] === 0xffffffff) pages.delete(journal[i]); else pages.set(journal[i], journal[i + 1]);
  held.push(...pages.values());
  const shared = new Map<number, number>();
  const pairs = u32s(p.process.frames.shared);
  for (let i = 0; i < pairs.length; i += 2) shared.set(pairs[i], pairs[i + 1]);
  const free = Array.from(u32s(p.process.frames.freeFrames));
  for (const f of held) {
    const n = shared.get(f);
    if (n === undefined) free.push(f);
    else if (n === 2) shared.delete(f);
    else shared.set(f, n - 1);
  }
  p.process.frames.freeFrames = u32Bytes(Uint32Array.from(free));
  p.process.frames.shared = u32Bytes(Uint32Array.from([...shared].flat()));
  const parentIds = new Set(parent.files.fds.map(([, id]: number[]) => id));
  p.process.openFiles.files = p.process.openFiles.files.filter((f: { id: number }) => parentIds.has(f.id));
  Object.assign(child, { status: "zombie", waitStatus: 7 << 8, addressSpace: null, files: null });
  return p;
}

const MACHINE_CASES: Array<[string, (p: Payload) => void, string]> = [
  ["an interrupt enable with bit 4", (p) => { p.machine.uart.ier = 0x10; }, "machine.uart.ier: 16 is not an integer in [0, 15]"],
  ["a divisor over 16 bits", (p) => { p.machine.uart.divisor = 0x10000; }, "machine.uart.divisor: 65536 is not an integer in [0, 65535]"],
  ["a received byte of 256", (p) => { p.machine.uart.input[1] = 256; }, "machine.uart.input[1]: 256 is not an integer in [0, 255]"],
  ["received input that is not a list", (p) => { p.machine.uart.input = "hi"; }, "machine.uart.input: not a list"],
  ["a THR flag as text", (p) => { p.machine.uart.thrInterruptPending = "yes"; }, 'machine.uart.thrInterruptPending: not true or false ("yes")'],
  ["a negative timer compare", (p) => { p.machine.clint.mtimecmp = "-1"; }, 'machine.clint.mtimecmp: "-1" is not a decimal integer in [0, 2^64)'],
  ["a timer compare past 2^64", (p) => { p.machine.clint.mtimecmp = "18446744073709551616"; }, 'machine.clint.mtimecmp: "18446744073709551616" is not a decimal integer in [0, 2^64)'],
  ["msip 2", (p) => { p.machine.clint.msip = 2; }, "machine.clint.msip: 2 is not an integer in [0, 1]"],
  ["a clock without ticks", (p) => { delete p.machine.clock.ticks; }, "machine.clock.ticks: missing"],
  ["a newer test finisher", (p) => { p.machine.testFinisher.schemaVersion = 2; }, "machine.testFinisher.schemaVersion: 2; this host reads version 1"],
  ["tohost outside RAM", (p) => { p.machine.htif.tohost = 0x10000000; }, "machine.htif.tohost: 268435456 is not an integer in [2147483648, 2151677944]"],
  ["tohost in the last 4 bytes of RAM", (p) => { p.machine.htif.tohost = 0x80000000 + (4 << 20) - 4; }, "machine.htif.tohost: 2151677948 is not an integer in [2147483648, 2151677944]"],
  ["fromhost missing", (p) => { delete p.machine.htif.fromhost; }, "machine.htif.fromhost: missing"],
  ["no UART", (p) => { delete p.machine.uart; }, "machine.uart: missing"],
  ["kernel state on a machine guest", (p) => { p.process = {}; }, "process: a machine-mode guest has no kernel state"],
  ["a machine hart at privilege 7", (p) => setHart(p, STATE_PRIV, 7), "hart.privilege: 7 is not U (0), S (1) or M (3)"],
];

describe("snapshot validation, field by field", () => {
  test("good snapshots of both kinds pass and come back as they were", () => {
    for (const good of [processGood, familyGood, machineGood]) {
      const back = decodeSnapshot(encodeSnapshot(good));
      for (const key of ["guest", "hart", "console", "process", "machine"] as const) expect(sameValue(back[key], good[key]), key).toBe(true);
      expect(Array.from(back.ram.indices)).toEqual(Array.from(good.ram.indices));
    }
    // How its messages find it travels with the guest.
    const placed = { ...processGood, guest: { ...processGood.guest, origin: "ws://127.0.0.1:7000", forwarding: "traversal" as const } };
    expect(decodeSnapshot(encodeSnapshot(placed)).guest).toMatchObject({ origin: "ws://127.0.0.1:7000", forwarding: "traversal" });
  });

  test.each(PROCESS_CASES)("process guest: %s", (_what, damage, message) => {
    expect(refusal(processGood, damage)).toBe(`bad snapshot: ${typeof message === "function" ? message() : message}`);
  });

  test.each(FAMILY_CASES)("process tree: %s", (_what, damage, message) => {
    expect(refusal(familyGood, damage)).toBe(`bad snapshot: ${typeof message === "function" ? message() : message}`);
  });

  test.each(V1_CASES)("version-1 process state: %s", (_what, damage, message) => {
    expect(refusal(asVersion1(processGood), damage)).toBe(`bad snapshot: ${message}`);
  });

  test("a good version-1 process state passes, as version 2", () => {
    const back = decodeSnapshot(encodeSnapshot(asVersion1(processGood)));
    expect(back.process!.schemaVersion).toBe(2);
    expect(sameValue(back.process!.openFiles, processGood.process!.openFiles)).toBe(true);
    const [space, original] = [back.process!.tasks[0].addressSpace!, processGood.process!.tasks[0].addressSpace!];
    // The trampoline v1 never had comes back as a region (its page is mapped when the kernel restores the process).
    expect(sameValue(space.regions, original.regions)).toBe(true);
    expect(sameValue(space.tableFrames, original.tableFrames) && space.rootFrame === original.rootFrame && space.brk === original.brk).toBe(true);
  });

  test("a process that just ended may be on the hart: the kernel switches to a runnable one before the hart runs", async () => {
    const payload = childEnded(payloadOf(familyGood));
    payload.process.current = 1001;
    const snapshot = decodeSnapshot(frame(payload));
    expect(snapshot.process!.current).toBe(1001);
    // The parent runs on: the child that would read its line has gone, so its write meets no reader (SIGPIPE).
    const guest = ProcessGuest.restore({ core: await Core.load(), root: fixtureRoot, hostName: "B" }, snapshot);
    guest.console.pushInput(guest.console.acceptedInput, Buffer.from("go\n"));
    expect(await guest.run()).toMatchObject({ exitCode: 128 + 13 });
  });

  test.each(MACHINE_CASES)("machine guest: %s", (_what, damage, message) => {
    expect(refusal(machineGood, damage)).toBe(`bad snapshot: ${message}`);
  });

  test("a payload that is not a map, and a kind that is neither", () => {
    expect(() => decodeSnapshot(frame([1, 2, 3]))).toThrow(/^bad snapshot: payload: not a map$/);
    expect(refusal(processGood, (p) => { p.guest.kind = "vm"; })).toBe('bad snapshot: guest.kind: "vm" is not one of process, machine');
  });

  test("a refused value is described on one line, whatever text it held", () => {
    const message = refusal(processGood, (p) => { at3(p).kind = "line one\nline two" + "x".repeat(500); });
    expect(message).not.toMatch(/\n/);
    expect(message.length).toBeLessThan(200);
  });
});

describe("a migration's state changes are checked the same way", () => {
  const decoded = (s: GuestSnapshot) => decodeSnapshot(encodeSnapshot(s));
  const noPages = { isMissing: () => false, fetch: async () => {}, arriving: false };

  test("changes of each process section", () => {
    const base = decoded(processGood);
    const hart = base.hart;
    const task = base.process!.tasks[0];
    const frames = base.process!.frames;
    expect(task.addressSpace!.rootFrame, "the fixture's root table").toBe(0);
    const [newRoot, ...othersFree] = u32s(frames.freeFrames);
    expect(newRoot, "the fixture has a free frame").toBeDefined();
    const badFiles = { schemaVersion: 1, nextId: 2, files: [{ id: 1, path: "<stdin>", flags: 0, mode: 0, position: "0", kind: "terminal", terminal: 0 }] };
    const cases: Array<[unknown, string]> = [
      [{ hart, process: { openFiles: badFiles } }, "process.openFiles.files[0].position: not a non-negative integer"],
      [{ hart, process: { current: -1 } }, "process.current: -1 is not an integer in [1, 2147483647]"],
      [{ hart, process: { openFiles: { ...base.process!.openFiles, files: base.process!.openFiles.files.slice(1) } } }, "process.tasks[0].files: fd 0 refers to open file 1, which is not there"],
      [{ hart, process: { "what\nis this": 1 } }, 'process["what\\nis this"]: not a section of the kernel\'s state'],
      [{ hart, process: "files" }, "process: not a map"],
      // A new root table (the old one freed, so the frame counts still agree): the hart still names the old one.
      [{ hart, process: { tasks: [{ ...task, addressSpace: { ...task.addressSpace, rootFrame: newRoot } }], frames: { ...frames, freeFrames: u32Bytes(Uint32Array.from([...othersFree, task.addressSpace!.rootFrame])) } } },
        `hart.satp: 0x80080000 is not the address space's root table (0x${(0x80080000 + newRoot).toString(16)})`],
      [{ hart, machine: {} }, "machine: a process-mode guest has no device state"],
      [{ hart: new Uint8Array(512) }, "hart.ramBytes: 0, but guest.ramBytes is 4194304"],
      [{ hart, console: { ...base.console, inputOffset: -1 } }, "console.inputOffset: not a non-negative integer"],
      [null, "changes: not a map"],
    ];
    for (const [changes, message] of cases) expect(() => applyChanges(base, changes as never)).toThrow(new SnapshotError(message));
  });

  test("an address space whose journal grew is checked from where the old one ended, and in full otherwise", () => {
    const base = decoded(processGood);
    const task = base.process!.tasks[0];
    const space = task.addressSpace!;
    const entries = space.pages.length / 8;
    const pair = (vpn: number, frame: number) => new Uint8Array(new Uint32Array([vpn, frame]).buffer);
    const joined = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
    const withPages = (pages: Uint8Array) => ({ hart: base.hart, process: { tasks: [{ ...task, addressSpace: { ...space, pages } }] } });
    const firstVpn = new DataView(space.pages.buffer, space.pages.byteOffset).getUint32(0, true);
    // The last entry again: the same page on the same frame, so the frame counts still agree.
    expect(() => applyChanges(base, withPages(joined(space.pages, space.pages.subarray(-8))))).not.toThrow();
    expect(() => applyChanges(base, withPages(joined(space.pages, pair(firstVpn, 4096)))))
      .toThrow(new SnapshotError(`process.tasks[0].addressSpace.pages[${entries}]: frame 4096 is beyond 1024 frames of RAM`));
    // Not the old journal with more after it: every entry is checked again.
    const rewritten = joined(pair(firstVpn, 4096), space.pages.subarray(8));
    expect(() => applyChanges(base, withPages(rewritten))).toThrow(new SnapshotError("process.tasks[0].addressSpace.pages[0]: frame 4096 is beyond 1024 frames of RAM"));
  });

  test("each process's journal is matched with its own earlier one by pid, wherever the list puts it", () => {
    const base = decoded(familyGood);
    const [parent, child] = base.process!.tasks;
    const pair = (vpn: number, frame: number) => new Uint8Array(new Uint32Array([vpn, frame]).buffer);
    // Grown by its last entry again (the same pages), or by one bad entry.
    const grown = (t: typeof parent, frame?: number) => {
      const pages = t.addressSpace!.pages;
      const last = pages.subarray(-8);
      const added = frame === undefined ? last : pair(new DataView(last.buffer, last.byteOffset).getUint32(0, true), frame);
      return { ...t, addressSpace: { ...t.addressSpace!, pages: Uint8Array.from(Buffer.concat([pages, added])) } };
    };
    const reordered = (c: typeof child, p: typeof parent) => ({ hart: base.hart, process: { tasks: [c, p] } });
    expect(() => applyChanges(base, reordered(grown(child), grown(parent)))).not.toThrow();
    const entries = child.addressSpace!.pages.length / 8;
    expect(() => applyChanges(base, reordered(grown(child, 4096), parent)))
      .toThrow(new SnapshotError(`process.tasks[0].addressSpace.pages[${entries}]: frame 4096 is beyond 1024 frames of RAM`));
    // The parent's journal in the child's place is not "the child's journal grown": it is checked in full.
    const swapped = { ...child, addressSpace: { ...parent.addressSpace!, pages: Uint8Array.from(Buffer.concat([pair(0, 4096), parent.addressSpace!.pages.subarray(8)])) } };
    expect(() => applyChanges(base, reordered(swapped, parent)))
      .toThrow(new SnapshotError("process.tasks[0].addressSpace.pages[0]: frame 4096 is beyond 1024 frames of RAM"));
  });

  test("frame counts after a journal grew are counted from the earlier state's, and must still agree", () => {
    const base = decoded(processGood);
    const task = base.process!.tasks[0];
    const frames = base.process!.frames;
    const space = task.addressSpace!;
    const last = new DataView(space.pages.buffer, space.pages.byteOffset + space.pages.length - 8, 8);
    const [vpn, frame] = [last.getUint32(0, true), last.getUint32(4, true)];
    expect(u32s(frames.shared), "the fixture shares no frame").toHaveLength(0);
    // A page moved to `to`, the frames `freed` put on the free list; a free frame it moves to leaves the list.
    const moved = (to: number, freed: number[]) => ({
      hart: base.hart,
      process: {
        tasks: [{ ...task, addressSpace: { ...space, pages: Uint8Array.from(Buffer.concat([space.pages, u32Bytes(Uint32Array.of(vpn, to))])) } }],
        frames: { ...frames, freeFrames: u32Bytes(Uint32Array.from([...u32s(frames.freeFrames).filter((f) => f !== to), ...freed])) },
      },
    });
    const free = u32s(frames.freeFrames)[0];
    expect(free, "the fixture has a free frame").toBeDefined();
    // The page moves to a free frame, and its old frame is freed: the counts agree.
    expect(() => applyChanges(base, moved(free, [frame]))).not.toThrow();
    // Unmapped, its frame freed: they agree.
    expect(() => applyChanges(base, moved(0xffffffff, [frame]))).not.toThrow();
    // Moved, the old frame not freed: the allocator counts a frame nothing holds.
    expect(() => applyChanges(base, moved(free, [])))
      .toThrow(new SnapshotError(`process.frames: frame ${frame} has no holder in the page tables, but the allocator counts 1`));
    // Moved onto a frame already held: held twice, counted once.
    expect(() => applyChanges(base, moved(space.rootFrame, [frame])))
      .toThrow(new SnapshotError(`process.frames: frame ${space.rootFrame} has 2 holders in the page tables, but the allocator counts 1`));
  });

  test("changes of the machine's devices", () => {
    const base = decoded(machineGood);
    const machine = { ...base.machine!, uart: { ...base.machine!.uart, lcr: 300 } };
    expect(() => applyChanges(base, { hart: base.hart, machine })).toThrow(new SnapshotError("machine.uart.lcr: 300 is not an integer in [0, 255]"));
    expect(() => applyChanges(base, { hart: base.hart, process: {} } as never)).toThrow(new SnapshotError("process: a machine-mode guest has no kernel state"));
  });

  test("good changes still apply, and give the later state", () => {
    const base = decoded(processGood);
    const later = { ...processGood, process: { ...processGood.process!, nextPid: 4242 } };
    const applied = applyChanges(base, changesSince(processGood, later));
    expect(applied.process!.nextPid).toBe(4242);
    expect(sameValue(applied.process!.openFiles, processGood.process!.openFiles)).toBe(true);
    expect(sameValue(applied.process!.tasks, processGood.process!.tasks)).toBe(true);
  });

  test("a guest is not restored onto a core whose RAM is another size than its own", async () => {
    const core = await Core.load();
    core.init(8 << 20);
    expect(() => ProcessGuest.restore({ core, root: fixtureRoot, hostName: "B" }, decoded(processGood), true, noPages))
      .toThrow(new SnapshotError("guest.ramBytes: 4194304, but the core received 8388608 bytes of RAM"));
    expect(() => MachineGuest.restore({ core, root: fixtureRoot, hostName: "B" }, decoded(machineGood), true, noPages))
      .toThrow(new SnapshotError("guest.ramBytes: 4194304, but the core received 8388608 bytes of RAM"));
    expect(() => MachineGuest.restore({ core, root: fixtureRoot, hostName: "B" }, decoded(processGood)))
      .toThrow(new SnapshotError("guest.kind: process, but this is a machine-mode restore"));
  });
});
