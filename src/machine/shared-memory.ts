// The core's module with its memory declared shared, for `roam run`, whose one core lives as long as its process
// (Core.load's `sharedMemory`). Why: V8 counts an ArrayBuffer's bytes as the isolate's external memory, a wasm
// memory's included, and the first time that count passes 64 MB it answers with a scavenge and an incremental
// mark-compact (reason "external memory pressure"). The core's memory is 20 MiB of its own plus the guest's RAM, 84 MiB
// for the default 64 MiB, so every run paid those collections in its first milliseconds (`roam run hello`: two
// scavenges and a mark-compact, ~4-5 ms of its ~110). V8 leaves shared memories out of that count
// (BackingStore::PerIsolateAccountingLength); to the code a shared memory is the same memory, grown in place up to its
// maximum (which V8 reserves anyway). Everything else keeps the counted kind: a host makes and drops a core per guest,
// and the count is what makes V8 collect a dropped core's memory soon; and `roam boot`'s translated code measured 2-3%
// slower in a shared memory (the bare-metal compute mix in-process, paging off and Sv32, three alternating sets; the
// cause not found), where process mode's measured the same (docs/SPEED.md, session 35).
//
// The patch: the memory section (id 5) of AssemblyScript's output declares one memory, its limits a minimum alone
// (flag 0); here they become flag 3 (a maximum, shared) with MAX_CORE_PAGES, enough for the largest RAM the core
// takes. Nothing else in a module refers to its memory section's bytes, so the rest is copied as it is. Translated
// code imports a shared memory then (wasm-writer.ts moduleHead).

import { MAX_RAM_BYTES, RAM_HOST_BASE } from "../../assembly/layout.js";
import { CodeWriter } from "../jit/wasm-writer.js";

/** The pages of a shared core memory's maximum: the core's own 20 MiB and the most RAM it takes (1 GiB). */
export const MAX_CORE_PAGES = (RAM_HOST_BASE + MAX_RAM_BYTES) / 65536;

const MEMORY_SECTION = 5;
const LIMITS_MIN = 0x00;
const LIMITS_MIN_MAX_SHARED = 0x03;

/** `bytes` (a module declaring one memory with a minimum only) with that memory shared, its maximum MAX_CORE_PAGES. */
export function withSharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("core module: not a WebAssembly module");
  }
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const size = readU32(bytes, at + 1);
    const payload = size.next;
    const end = payload + size.value;
    if (end > bytes.length) throw new Error(`core module: section ${id} runs past the end`);
    if (id === MEMORY_SECTION) {
      const count = readU32(bytes, payload);
      if (count.value !== 1 || bytes[count.next] !== LIMITS_MIN) {
        throw new Error("core module: expected one memory with a minimum only");
      }
      const minimum = readU32(bytes, count.next + 1);
      if (minimum.next !== end) throw new Error("core module: memory section longer than its one memory");
      const section = new CodeWriter(16).op(1).op(LIMITS_MIN_MAX_SHARED).u32(minimum.value).u32(MAX_CORE_PAGES).copy();
      const head = new CodeWriter(8).op(MEMORY_SECTION).u32(section.length).copy();
      const patched = new Uint8Array(at + head.length + section.length + bytes.length - end);
      patched.set(bytes.subarray(0, at));
      patched.set(head, at);
      patched.set(section, at + head.length);
      patched.set(bytes.subarray(end), at + head.length + section.length);
      return patched;
    }
    at = end;
  }
  throw new Error("core module: no memory section");
}

/** An unsigned LEB128 at `at`: its value and the offset after it. */
function readU32(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) break;
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: at };
  }
  throw new Error("core module: a malformed number");
}
