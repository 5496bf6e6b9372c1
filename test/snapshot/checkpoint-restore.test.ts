// Freezing a running guest into bytes and continuing it on another core must be
// invisible to the guest: same output, same exit status, instruction count
// carried over, guest time never going backwards.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Core } from "../../src/machine/core.js";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { decodeSnapshot, encodeSnapshot, SnapshotError } from "../../src/snapshot/snapshot.js";
import { memwalkOutput } from "../process-cases.js";

const root = mkdtempSync(join(tmpdir(), "roam-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const elf = (name: string) => readFileSync(new URL(`../../guests/bin/process/${name}.elf`, import.meta.url));

function collect(guest: ProcessGuest): () => string {
  const chunks: Buffer[] = [];
  guest.console.onOutput((_offset, bytes) => chunks.push(Buffer.from(bytes)));
  return () => Buffer.concat(chunks).toString("utf8");
}

async function runFor(guest: ProcessGuest, ms: number) {
  const timer = setTimeout(() => guest.pause(), ms);
  const result = await guest.run();
  clearTimeout(timer);
  return result;
}

describe("checkpoint and restore (process mode)", () => {
  const args = ["memwalk", "--mib", "4", "--fraction", "0.5", "--rounds", "40"];

  test("memwalk frozen mid-run, moved through bytes to a new core, ends exactly as an unmoved run", async () => {
    const hostA = { core: await Core.load(), root, hostName: "A" };
    const a = ProcessGuest.start(hostA, { elf: elf("memwalk"), program: "memwalk", argv: args, ramBytes: 32 << 20 });
    const outA = collect(a);
    const first = await runFor(a, 40);
    expect(first.paused).toBe(true);
    const frozenAt = first.instret;
    expect(frozenAt).toBeGreaterThan(0n);
    const snap = a.snapshot();
    const bytes = encodeSnapshot(snap);

    const hostB = { core: await Core.load(), root, hostName: "B" };
    const b = ProcessGuest.restore(hostB, decodeSnapshot(bytes));
    expect(b.info.id).toBe(a.info.id);
    expect(b.console.outputOffset).toBe(a.console.outputOffset);
    const outB = collect(b);
    const end = await b.run();
    expect(end.paused).toBeFalsy();
    expect(end.exitCode).toBe(0);
    expect(end.instret).toBeGreaterThan(frozenAt);
    expect(outA() + outB()).toBe(memwalkOutput(4, "0.5", 40, "0"));
  });

  test("a guest moved several times ends with the same output and instruction count as an unmoved one", async () => {
    const still = ProcessGuest.start({ core: await Core.load(), root, hostName: "S" }, { elf: elf("memwalk"), program: "memwalk", argv: args, ramBytes: 32 << 20 });
    const outStill = collect(still);
    const unmoved = await still.run();

    let guest = ProcessGuest.start({ core: await Core.load(), root, hostName: "h0" }, { elf: elf("memwalk"), program: "memwalk", argv: args, ramBytes: 32 << 20 });
    let output = collect(guest);
    let text = "";
    let result = await runFor(guest, 15);
    for (let hop = 1; result.paused && hop < 20; hop++) {
      text += output();
      const snap = decodeSnapshot(encodeSnapshot(guest.snapshot()));
      guest = ProcessGuest.restore({ core: await Core.load(), root, hostName: `h${hop}` }, snap);
      output = collect(guest);
      result = await runFor(guest, 15);
    }
    if (result.paused) result = await guest.run();
    text += output();
    expect(text).toBe(outStill());
    expect(result.exitCode).toBe(unmoved.exitCode);
    expect(result.instret).toBe(unmoved.instret);
  });

  test("a guest blocked reading its terminal is frozen at once and reads the line typed after the move", async () => {
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("echo-lines"), program: "echo-lines", argv: ["echo-lines"] });
    const outA = collect(a);
    a.console.pushInput(0, Buffer.from("first\n"));
    const running = a.run();
    // It echoes "first", then blocks in read(0).
    for (const deadline = Date.now() + 20_000; !outA().includes("first") && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
    a.pause();
    expect((await running).paused).toBe(true);
    const b = ProcessGuest.restore({ core: await Core.load(), root, hostName: "B" }, decodeSnapshot(encodeSnapshot(a.snapshot())));
    const outB = collect(b);
    // The client resends everything since offset 0; only "second" is new.
    expect(b.console.pushInput(0, Buffer.from("first\nsecond\n"))).toBe(13);
    b.console.endInput();
    const end = await b.run();
    expect(end.exitCode).toBe(0);
    expect(outA() + outB()).toMatch(/^\s*1\s+first\n\s*2\s+second\n/);
  });

  test("guest time does not run backwards across a move", async () => {
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("memwalk"), program: "memwalk", argv: args, ramBytes: 32 << 20 });
    await runFor(a, 20);
    const before = BigInt(a.snapshot().process!.guestClockNs);
    const b = ProcessGuest.restore({ core: await Core.load(), root, hostName: "B" }, decodeSnapshot(encodeSnapshot(a.snapshot())));
    await runFor(b, 5);
    expect(BigInt(b.snapshot().process!.guestClockNs)).toBeGreaterThanOrEqual(before);
    b.kill();
  });
});

describe("malformed snapshots", () => {
  test("each kind of damage gets a clear SnapshotError", async () => {
    const a = ProcessGuest.start({ core: await Core.load(), root, hostName: "A" }, { elf: elf("hello"), program: "hello", argv: ["hello"] });
    const good = encodeSnapshot(a.snapshot());
    const flipped = good.slice(); flipped[good.length - 100] ^= 1;
    const wrongMagic = good.slice(); wrongMagic[0] = 0x41;
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 10), /shorter than the 20-byte header/],
      [wrongMagic, /not a Roam snapshot/],
      [good.subarray(0, good.length - 1), /truncated/],
      [flipped, /checksum mismatch/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeSnapshot(bytes)).toThrow(SnapshotError);
      expect(() => decodeSnapshot(bytes)).toThrow(message);
    }
  });
});
