// The kernel's state (v2: a tree of processes) survives a snapshot: a guest
// with a child, pipes with bytes in flight and a signal handler goes through
// snapshot -> encode -> decode -> restore on another core and ends as an
// unmoved run does. And a snapshot the previous version wrote (one process,
// ProcessState v1) is still restored and carries on where it was.
import { readFileSync, rmSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { Core } from "../../src/machine/core.js";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { decodeSnapshot, encodeSnapshot, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { u32s } from "../../src/kernel/frames.js";
import { endTask } from "../../src/kernel/process-tree.js";
import { familySnapshot, FAMILY_READY, fixtureRoot, frozenOnceItPrints } from "./fixtures.js";
import { openFileAt } from "./open-files.js";
import { asVersion1 } from "./version1.js";

afterAll(() => rmSync(fixtureRoot, { recursive: true, force: true }));

const elf = (name: string) => readFileSync(new URL(`../../guests/bin/process/${name}.elf`, import.meta.url));
const callsElf = (name: string) => readFileSync(new URL(`../../guests/bin/calls/${name}.elf`, import.meta.url));
const FAMILY_REST = "child: hello\nchild: got go\nchild exited 7\ndone: signals 1\n";
const SIGUSR1 = 10;

/** Restores `snapshot` on a new core, gives it `input`, runs it to its end: its exit code and what it printed. */
async function restoreAndFinish(snapshot: GuestSnapshot, input = ""): Promise<{ exitCode: number; output: string }> {
  const guest = ProcessGuest.restore({ core: await Core.load(), root: fixtureRoot, hostName: "B" }, snapshot);
  let output = "";
  guest.console.onOutput((_offset, bytes) => { output += Buffer.from(bytes).toString(); });
  if (input) guest.console.pushInput(guest.console.acceptedInput, Buffer.from(input));
  const result = await guest.run();
  return { exitCode: result.exitCode, output };
}

describe("a process tree in a snapshot", () => {
  test("a parent, its child, pipes with bytes in flight and a handler survive snapshot, encode, decode and restore", async () => {
    const { guest, snapshot, output } = await familySnapshot();
    expect(output()).toBe(FAMILY_READY);
    const k = snapshot.process!;
    // What the snapshot must carry for the rest to come out right.
    expect(k.tasks.map((t) => [t.ppid === k.firstPid, t.status])).toEqual([[false, "running"], [true, "running"]]);
    const [parent, child] = k.tasks;
    expect(parent.signals.actions.map(([sig]) => sig)).toContain(SIGUSR1);
    expect(k.pipes.map((p) => Buffer.from(p.data).toString()).sort()).toEqual(["", "child: hello\n"]);
    const pipeEnds = k.openFiles.files.filter((f) => f.kind === "pipe");
    expect(pipeEnds).toHaveLength(4);
    expect(openFileAt(k, 0, child.pid).id, "fork shares the parent's descriptions").toBe(openFileAt(k, 0, parent.pid).id);
    expect(u32s(k.frames.shared).length, "fork shares frames, copy-on-write").toBeGreaterThan(0);
    guest.kill();

    const decoded = decodeSnapshot(encodeSnapshot(snapshot));
    expect(await restoreAndFinish(decoded, "go\n")).toEqual({ exitCode: 0, output: FAMILY_REST });
  }, 60_000);

  test("the unmoved family prints the same (what the restored one is compared with)", async () => {
    const { guest, output } = await familySnapshot();
    guest.console.pushInput(guest.console.acceptedInput, Buffer.from("go\n"));
    const result = await guest.run();
    expect({ exitCode: result.exitCode, output: output() }).toEqual({ exitCode: 0, output: FAMILY_READY + FAMILY_REST });
  }, 60_000);
});

describe("a process reaped as it exited, still named by the hart", () => {
  // An orphan (its parent gone, init its parent) is reaped the moment it exits; until the run loop switches to another
  // process the hart still names it. A balancer's move that froze the guest then sent "process.current: process N is
  // not in the process list", and the destination refused the snapshot.
  test("the snapshot puts a live process on the hart: it validates, and that process's registers are its own", async () => {
    const { guest } = await familySnapshot();
    const k = guest.process;
    const parent = k.tasks.get(k.firstPid)!;
    const child = [...k.tasks.values()].find((t) => t.pid !== k.firstPid)!;
    k.switchTo(parent);
    const parentRegisters = Array.from(k.registersOf(parent));
    k.switchTo(child);
    child.ppid = 1; // as if its parent had ended: init's now
    endTask(k, child, 0);
    expect(k.tasks.has(child.pid), "an orphan is reaped at once").toBe(false);
    expect(k.current).toBe(child);

    const snapshot = decodeSnapshot(encodeSnapshot(guest.snapshot()));
    expect(snapshot.process!.current).toBe(parent.pid);
    expect(Array.from(u32s(snapshot.process!.tasks.find((t) => t.pid === parent.pid)!.registers))).toEqual(parentRegisters);
    guest.kill();
  }, 60_000);
});

describe("a vfork child whose parent was killed while it borrowed the parent's space", () => {
  test("survives a snapshot and restore, and the first process reaps the killed parent", async () => {
    const { guest, snapshot, output } = await frozenOnceItPrints("orphan", "ready\n");
    expect(output()).toBe("ready\n");
    guest.kill();
    const decoded = decodeSnapshot(encodeSnapshot(snapshot));
    expect(await restoreAndFinish(decoded, "go\n")).toEqual({ exitCode: 0, output: "first: got go\nmiddle killed by signal 9\n" });
  }, 60_000);
});

describe("pipe2 failing with EMFILE", () => {
  test("leaves no description behind in a snapshot: it restores and makes a pipe once a descriptor is free", async () => {
    const { guest, snapshot, output } = await frozenOnceItPrints("fdfull", "ready\n");
    expect(output()).toBe("emfile: none free, one free\nready\n");
    guest.kill();
    const ids = new Set(snapshot.process!.tasks.flatMap((t) => t.files?.fds.map(([, id]) => id) ?? []));
    expect(snapshot.process!.openFiles.files.filter((f) => !ids.has(f.id)), "descriptions no descriptor refers to").toEqual([]);
    expect(await restoreAndFinish(decodeSnapshot(encodeSnapshot(snapshot)), "go\n")).toEqual({ exitCode: 0, output: "through a pipe: go\n" });
  }, 60_000);
});

describe("every state a process tree passes through is a snapshot that restores and ends as the unmoved run", () => {
  // Paused as often as the kernel lets it (after each write, every slice, every wait), snapshotted, checked, restored on
  // another core and run to its end each time: a real state the checks refuse, or one that restores wrong, shows here.
  // `handoff` is one process of five threads (guests/calls/threads.c): three pass a token through a condition variable,
  // one waits in sigwait for the signal main sends the process, main joins them.
  const WHOLE: Record<string, { elf: Buffer; argv: string[]; ready: string; whole: string }> = {
    family: { elf: elf("family"), argv: ["family"], ready: FAMILY_READY, whole: FAMILY_READY + FAMILY_REST },
    orphan: { elf: elf("orphan"), argv: ["orphan"], ready: "ready\n", whole: "ready\nfirst: got go\nmiddle killed by signal 9\n" },
    handoff: { elf: callsElf("threads"), argv: ["threads", "handoff"], ready: "ready\n", whole: "ready\nhandoff: 300 passes, counter 600, sigwait got 12\n" },
    // Main ends with pthread_exit while two threads count on: a zombie leader whose process lives on in its threads.
    "leader-exits": { elf: callsElf("threads"), argv: ["threads", "leader-exits"], ready: "ready\n", whole: "ready\ncounted 500\ncounted 1000\ncounted 1500\ncounted 2000\nlast thread: counter 3000, main's pid still ours 1\n" },
  };
  test.each(Object.keys(WHOLE))("%s", async (name) => {
    const { ready, whole, argv } = WHOLE[name];
    const guest = ProcessGuest.start({ core: await Core.load(), root: fixtureRoot, hostName: "A" }, { elf: WHOLE[name].elf, program: name, argv, ramBytes: 4 << 20 });
    let output = "";
    guest.console.onOutput((_offset, bytes) => { output += Buffer.from(bytes).toString(); guest.pause(); }); // a freeze after each write
    guest.expectFreeze(true); // short batches: a pause is seen within about a millisecond
    const states: string[] = [];
    let threaded = 0;
    for (;;) {
      const timer = setImmediate(() => guest.pause());
      const result = await guest.run();
      clearImmediate(timer);
      if (!result.paused) { expect(result.exitCode).toBe(0); break; }
      const snapshot = guest.snapshot();
      const k = snapshot.process!;
      states.push(`${k.tasks.map((t) => `${t.pid}${t.tgid ? `/${t.tgid}` : ""}:${t.status}`).join(",")} on ${k.current}`);
      if (k.tasks.some((t) => t.tgid !== undefined)) threaded++;
      const at = `state ${states.length - 1} (${states.at(-1)}) after ${JSON.stringify(output)}`;
      const decoded = decodeSnapshot(encodeSnapshot(snapshot));
      const rest = await restoreAndFinish(decoded, guest.console.acceptedInput === 0 ? "go\n" : "");
      expect({ at, ...rest, output: output + rest.output }).toEqual({ at, exitCode: 0, output: whole });
      // The line it waits for, once it waits for it (the states before are frozen too).
      if (output.includes(ready) && guest.console.acceptedInput === 0) guest.console.pushInput(0, Buffer.from("go\n"));
    }
    expect(output).toBe(whole);
    expect(states.length).toBeGreaterThan(3);
    if (name === "handoff" || name === "leader-exits") expect(threaded, states.join("\n")).toBeGreaterThan(2); // frozen while it had threads
    if (name === "leader-exits") expect(states.some((s) => /^1000:zombie,/.test(s)), states.join("\n")).toBe(true); // and after main ended
  }, 120_000);
});

describe("a version-1 snapshot (one process, as the previous version wrote it)", () => {
  const argv = ["counter", "30", "1", "3"];
  /** counter, frozen once it has printed count 5. */
  async function frozenCounter(): Promise<{ snapshot: GuestSnapshot; before: string }> {
    const guest = ProcessGuest.start({ core: await Core.load(), root: fixtureRoot, hostName: "A" }, { elf: elf("counter"), program: "counter", argv, ramBytes: 4 << 20 });
    let before = "";
    const counted = new Promise<void>((resolve) => guest.console.onOutput((_offset, bytes) => {
      before += Buffer.from(bytes).toString();
      if (before.includes("count 5/30")) resolve();
    }));
    const running = guest.run();
    await counted;
    guest.pause();
    expect((await running).paused).toBe(true);
    return { snapshot: guest.snapshot(), before };
  }

  async function unmoved(): Promise<string> {
    const guest = ProcessGuest.start({ core: await Core.load(), root: fixtureRoot, hostName: "A" }, { elf: elf("counter"), program: "counter", argv, ramBytes: 4 << 20 });
    let output = "";
    guest.console.onOutput((_offset, bytes) => { output += Buffer.from(bytes).toString(); });
    expect((await guest.run()).exitCode).toBe(0);
    return output;
  }

  test("gets the sigreturn trampoline it never had: a handler it installs after the restore returns through it", async () => {
    const { guest, snapshot } = await frozenOnceItPrints("sigself", "ready\n");
    guest.kill();
    const decoded = decodeSnapshot(encodeSnapshot(asVersion1(snapshot)));
    expect(await restoreAndFinish(decoded, "go\n")).toEqual({ exitCode: 0, output: "handled 1\n" });
  }, 60_000);

  test.each([1, 2] as const)("is restored and continues its count (file table schema %i)", async (fileTableVersion) => {
    const { snapshot, before } = await frozenCounter();
    const old = asVersion1(snapshot, fileTableVersion);
    const bytes = encodeSnapshot(old);
    const decoded = decodeSnapshot(bytes);
    expect(decoded.process!.schemaVersion, "read as the current version").toBe(2);
    expect(decoded.process!.tasks.map((t) => t.pid)).toEqual([snapshot.process!.tasks[0].pid]);
    const { exitCode, output } = await restoreAndFinish(decoded);
    expect(exitCode).toBe(0);
    expect(before + output).toBe(await unmoved());
    expect(output, "it went on from where it was frozen, not from the start").toMatch(/^count ([6-9]|[12][0-9]|30)\/30 /);
  }, 60_000);
});
