// A migration builds the guest at the destination from the state sent before
// the freeze, then applies only what changed. Applying the changes must give
// exactly the later snapshot, and a guest updated that way must run on exactly
// as one restored from the later snapshot whole.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Core } from "../../src/machine/core.js";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { allRamPages } from "../../src/guest/runnable.js";
import { applyChanges, changedSections, changesSince, sameValue } from "../../src/snapshot/changes.js";
import { decodeSnapshot, encodeSnapshot, type GuestSnapshot, type RamPages } from "../../src/snapshot/snapshot.js";
import { memwalkOutput } from "../process-cases.js";
import { addOpenFile } from "./open-files.js";

const root = mkdtempSync(join(tmpdir(), "roam-changes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const elf = (name: string) => readFileSync(new URL(`../../guests/bin/process/${name}.elf`, import.meta.url));
const NO_PAGES: RamPages = { indices: new Uint32Array(0), data: new Uint8Array(0) };

/** Runs `guest` until its output (collected in `out`) includes `text`: it pauses at the next slice boundary after that write. */
async function runUntil(guest: ProcessGuest, out: Buffer[], text: string) {
  const off = guest.console.onOutput(() => {
    if (Buffer.concat(out).toString().includes(text)) guest.pause();
  });
  const result = await guest.run();
  off?.();
  return result;
}

/** A snapshot as the destination has it after decoding (what changes are applied to). */
const decoded = (s: GuestSnapshot) => decodeSnapshot(encodeSnapshot(s));

describe("snapshot changes", () => {
  test("sameValue compares bytes, lists and maps by content", () => {
    expect(sameValue(new Uint8Array([1, 2]), Buffer.from([1, 2]))).toBe(true);
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameValue({ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameValue([1, 2], [1, 2, 3])).toBe(false);
    expect(sameValue(null, {})).toBe(false);
  });

  test("a memwalk guest moved as prestate + changes ends exactly as an unmoved run", async () => {
    const args = ["memwalk", "--mib", "2", "--fraction", "0.5", "--rounds", "30"];
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("memwalk"), program: "memwalk", argv: args, ramBytes: 16 << 20 });
    const out: Buffer[] = [];
    a.console.onOutput((_o, bytes) => out.push(Buffer.from(bytes)));
    // Paused on what it printed, not after a guessed time: a loaded machine may not have touched the region yet.
    expect((await runUntil(a, out, "round 1/")).paused).toBe(true);
    const before = a.snapshotWithout(NO_PAGES); // taken while it runs, as a migration's prestate is
    expect((await runUntil(a, out, "round 3/")).paused).toBe(true);
    const after = a.snapshotWithout(NO_PAGES);

    const changes = changesSince(before, after);
    expect(changes.hart).toEqual(after.hart);
    // The address space does not change once memwalk has touched its region; the clock always does.
    expect(Object.keys(changes.process ?? {})).toContain("guestClockNs");
    expect(sameValue(after.process!.tasks[0].addressSpace, before.process!.tasks[0].addressSpace)).toBe(true);
    // ... so the changes name the process by pid with only what changed (its registers and CPU time), instead of
    // carrying its page journal, descriptors and signal state into the downtime.
    const task = changes.process!.tasks![0] as unknown as { pid: number; changedFields: Record<string, unknown> };
    expect(task.pid).toBe(after.process!.tasks[0].pid);
    expect(Object.keys(task.changedFields)).toContain("registers");
    expect(Object.keys(task.changedFields)).not.toContain("addressSpace");
    expect(Object.keys(task.changedFields)).not.toContain("files");
    const rebuilt = applyChanges(decoded(before), changes);
    expect(sameValue(rebuilt.process, after.process)).toBe(true);
    expect(sameValue(rebuilt.console, after.console)).toBe(true);
    expect(sameValue(rebuilt.hart, after.hart)).toBe(true);

    // The destination: a core holding the RAM, a guest built from the prestate, updated with the changes.
    const core = await Core.load();
    core.init(16 << 20);
    const ram = allRamPages(a.core, 16 << 20);
    ram.indices.forEach((page, k) => core.ram.set(ram.data.subarray(k * 4096, (k + 1) * 4096), page * 4096));
    const noPages = { isMissing: () => false, fetch: async () => {}, arriving: false };
    const b = ProcessGuest.restore({ core, root, hostName: "B" }, decoded(before), true, noPages);
    b.update(rebuilt, changedSections(changes));
    b.console.onOutput((_o, bytes) => out.push(Buffer.from(bytes)));
    const result = await b.run();
    expect(result.exitCode).toBe(0);
    expect(Buffer.concat(out).toString()).toBe(memwalkOutput(2, "0.5", 30, "0"));
  }, 30_000);

  test("a process tree that grew between prestate and final state (a child, pipes, a handler) is updated to it and ends as an unmoved run", async () => {
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("family"), program: "family", argv: ["family"], ramBytes: 4 << 20 });
    const before = a.snapshotWithout(NO_PAGES); // one process, nothing run yet
    const out: Buffer[] = [];
    a.console.onOutput((_o, bytes) => out.push(Buffer.from(bytes)));
    expect((await runUntil(a, out, "ready: signals 1\n")).paused).toBe(true);
    const after = a.snapshotWithout(NO_PAGES);
    const changes = changesSince(before, after);
    expect(Object.keys(changes.process ?? {})).toEqual(expect.arrayContaining(["tasks", "openFiles", "pipes", "frames", "nextPid", "nextPipe"]));
    const rebuilt = applyChanges(decoded(before), changes);
    expect(sameValue(rebuilt.process, after.process)).toBe(true);

    const core = await Core.load();
    core.init(4 << 20);
    const ram = allRamPages(a.core, 4 << 20);
    ram.indices.forEach((page, k) => core.ram.set(ram.data.subarray(k * 4096, (k + 1) * 4096), page * 4096));
    a.kill();
    const noPages = { isMissing: () => false, fetch: async () => {}, arriving: false };
    const b = ProcessGuest.restore({ core, root, hostName: "B" }, decoded(before), true, noPages);
    b.update(rebuilt, changedSections(changes));
    const later: Buffer[] = [];
    b.console.onOutput((_o, bytes) => later.push(Buffer.from(bytes)));
    b.console.pushInput(b.console.acceptedInput, Buffer.from("go\n"));
    const result = await b.run();
    expect({ exitCode: result.exitCode, output: Buffer.concat(later).toString() })
      .toEqual({ exitCode: 0, output: "child: hello\nchild: got go\nchild exited 7\ndone: signals 1\n" });
  }, 30_000);

  test("a guest updated with changed files back on their home host holds them as local files again", async () => {
    const home = "ws://A.example:7001";
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A", hostUrl: home }, { elf: elf("hello"), program: "hello", argv: ["hello"], ramBytes: 4 << 20 });
    const base = decoded(a.snapshotWithout(NO_PAGES));
    // As the guest left a host that served a file to it: the file's home is that host.
    const file = { path: "/data.txt", flags: 0, mode: 0, position: 100, kind: "file" as const, home };
    const later = decoded(a.snapshotWithout(NO_PAGES));
    addOpenFile(later.process!, 3, { ...file, position: 700 });
    addOpenFile(base.process!, 3, file);
    const core = await Core.load();
    core.init(4 << 20);
    const noPages = { isMissing: () => false, fetch: async () => {}, arriving: false };
    const back = ProcessGuest.restore({ core, root, hostName: "A", hostUrl: home }, base, true, noPages);
    expect(back.dependencies()).toEqual([]);
    const changes = changesSince(base, later);
    expect(changedSections(changes).has("openFiles")).toBe(true);
    back.update(applyChanges(base, changes), changedSections(changes));
    expect(back.dependencies(), "the updated file table still names its home as remote").toEqual([]);
    expect(back.process.current.files.get(3)?.position).toBe(700);
  });

  test("a state made before children's CPU time and limits were kept restores with none (schema 2 unchanged)", async () => {
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("hello"), program: "hello", argv: ["hello"], ramBytes: 4 << 20 });
    const snapshot = a.snapshotWithout(NO_PAGES);
    expect(snapshot.process!.tasks[0].childrenCpuNs).toBe("0");
    delete snapshot.process!.tasks[0].childrenCpuNs;
    delete snapshot.process!.tasks[0].limits;
    expect(decoded(snapshot).process!.tasks[0].childrenCpuNs).toBe("0");
    expect(decoded(snapshot).process!.tasks[0].limits).toEqual([]);
  });

  test("changes that break the snapshot's shape are refused", async () => {
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("hello"), program: "hello", argv: ["hello"], ramBytes: 4 << 20 });
    const base = decoded(a.snapshotWithout(NO_PAGES));
    expect(() => applyChanges(base, { hart: new Uint8Array(7) })).toThrow(/hart state must be/);
    expect(() => applyChanges(base, { hart: base.hart, console: { outputOffset: "x" } as never })).toThrow("bad snapshot: console.inputOffset: missing");
    expect(() => applyChanges(base, null as never)).toThrow(/not a map/);
  });

  test("a process's changes are checked field by field, and a structural one is checked against the other sections", async () => {
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("hello"), program: "hello", argv: ["hello"], ramBytes: 4 << 20 });
    const base = decoded(a.snapshotWithout(NO_PAGES));
    const pid = base.process!.tasks[0].pid;
    const withTask = (task: unknown) => ({ hart: base.hart, process: { tasks: [task] } }) as never;
    // Only registers moved on: the rest of the process is base's, the same objects.
    const registers = new Uint8Array(132).fill(1);
    const moved = applyChanges(base, withTask({ pid, changedFields: { registers, cpuInstructions: "77" } }));
    expect(moved.process!.tasks[0].cpuInstructions).toBe("77");
    expect(moved.process!.tasks[0].files).toBe(base.process!.tasks[0].files);
    expect(() => applyChanges(base, withTask({ pid: pid + 1, changedFields: {} }))).toThrow(`bad snapshot: process.tasks[0].pid: changes for process ${pid + 1}, which the state they follow does not have`);
    expect(() => applyChanges(base, withTask({ pid, changedFields: { pid: 9 } }))).toThrow(/changedFields\["pid"\]: not a field a process's changes may carry/);
    expect(() => applyChanges(base, withTask({ pid, changedFields: { colour: 1 } }))).toThrow(/not a field a process's changes may carry/);
    expect(() => applyChanges(base, withTask({ pid, changedFields: { registers: new Uint8Array(8) } }))).toThrow(/tasks\[0\]\.registers: 8 bytes/);
    expect(() => applyChanges(base, withTask({ pid, changedFields: { childrenCpuNs: "-5" } }))).toThrow(/tasks\[0\]\.childrenCpuNs: "-5" is not a decimal integer/);
    expect(applyChanges(base, withTask({ pid, changedFields: { childrenCpuNs: "1234" } })).process!.tasks[0].childrenCpuNs).toBe("1234");
    expect(() => applyChanges(base, withTask({ pid, changedFields: { limits: [[7, "20", "10"]] } }))).toThrow(/tasks\[0\]\.limits\[0\]: the soft limit is above the hard one/);
    expect(() => applyChanges(base, withTask({ pid, changedFields: { limits: [[7, "1", "1"], [7, "2", "2"]] } }))).toThrow(/limits\[1\]\[0\]: resource 7 twice/);
    expect(applyChanges(base, withTask({ pid, changedFields: { limits: [[7, "10", "10"]] } })).process!.tasks[0].limits).toEqual([[7, "10", "10"]]);
    // A descriptor table that names a description the state does not have: caught by the cross-section check.
    const files = { ...base.process!.tasks[0].files!, fds: [[0, 999, false]] };
    expect(() => applyChanges(base, withTask({ pid, changedFields: { files } }))).toThrow(/fd 0 refers to open file 999, which is not there/);
  });
});
