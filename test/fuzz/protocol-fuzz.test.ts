// Fuzzing the wire protocol: random frames through decode(), random messages
// through the field checks (str, num, bytes, ...), and random requests of
// random types through a real Host's request handling, in-process (a fake
// WebSocket carries the frames; no sockets). Malformed input must be refused
// with a ProtocolError, a SnapshotError or an ElfError: the host answers with an
// error, logs no stack trace and keeps serving.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { bool, bytes, decode, encode, num, optNum, optStr, ProtocolError, str, strList, type Message } from "../../src/net/protocol.js";
import { encodeSnapshot, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { fixtureRoot, frame, machineSnapshot, payloadOf, processSnapshot } from "../snapshot/fixtures.js";
import { connectFake } from "../snapshot/fake-socket.js";
import { below, mutate, ODD_VALUES, pick, seeded, type Random } from "./mutate.js";

const root = mkdtempSync(join(tmpdir(), "roam-protocol-fuzz-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(fixtureRoot, { recursive: true, force: true });
});

const FIELDS = [
  "guest", "program", "argv", "envp", "elf", "kind", "ramBytes", "snapshot", "changes", "missing", "expected", "offset", "data", "end",
  "to", "strategy", "path", "length", "position", "from", "attach", "leaveRunning", "append", "token", "role", "indices", "zero", "round",
  "maxDowntimeMs", "maxRounds", "bandwidth",
];
const CLIENT_TYPES = ["run", "ps", "attach", "input", "kill", "migrate", "checkpoint", "restore", "stats", "has-guest", "file-read", "file-write", "file-stat", "file-list", "hello", "nonsense", ""];
const HOST_TYPES = ["mig-begin", "mig-pages", "mig-prestate", "mig-state", "mig-commit", "mig-complete", "mig-abort", "mig-round", "mig-urgent", "ps", "restore"];

/** A random value of a random type, a few levels deep. */
function randomValue(random: Random, depth = 0): unknown {
  const kind = below(random, depth > 2 ? 4 : 7);
  if (kind < 3) return structuredClone(pick(random, ODD_VALUES));
  if (kind === 3) return Uint8Array.from({ length: below(random, 40) }, () => below(random, 256));
  if (kind === 4) return Array.from({ length: below(random, 4) }, () => randomValue(random, depth + 1));
  const map: Record<string, unknown> = {};
  for (let n = below(random, 4); n > 0; n--) map[pick(random, FIELDS)] = randomValue(random, depth + 1);
  return map;
}

describe("fuzzing the protocol's decoding and field checks", () => {
  test("random frames decode to a message or are refused with a ProtocolError", () => {
    const random = seeded(0xf4a3e);
    const valid = encode({ t: "run", rid: 3, program: "x", argv: ["x"], elf: new Uint8Array(10) });
    const problems: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const kind = i % 3;
      let frameBytes: Uint8Array;
      if (kind === 0) frameBytes = Uint8Array.from({ length: below(random, 64) }, () => below(random, 256));
      else if (kind === 1) frameBytes = pack(random() < 0.5 ? randomValue(random) : { v: 2, t: pick(random, CLIENT_TYPES), rid: randomValue(random), ...(randomValue(random) as object) });
      else {
        frameBytes = Uint8Array.from(valid);
        for (let n = 1 + below(random, 3); n > 0; n--) frameBytes[below(random, frameBytes.length)] ^= 1 << below(random, 8);
      }
      try {
        const m = decode(frameBytes);
        expect(typeof m.t).toBe("string");
      } catch (error) {
        if (!(error instanceof ProtocolError) || error.message.includes("\n")) problems.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  test("the field checks return what they promise or throw a ProtocolError", () => {
    const random = seeded(0xc0ffee);
    const checks: Array<[string, (m: Message, key: string) => unknown, (v: unknown) => boolean]> = [
      ["str", str, (v) => typeof v === "string"],
      ["optStr", optStr, (v) => v === undefined || typeof v === "string"],
      ["num", (m, k) => num(m, k, 0, 1 << 30), (v) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1 << 30],
      ["optNum", (m, k) => optNum(m, k, 1, 1000), (v) => v === undefined || (typeof v === "number" && v >= 1 && v <= 1000)],
      ["bytes", bytes, (v) => v instanceof Uint8Array],
      ["strList", strList, (v) => Array.isArray(v) && v.every((s) => typeof s === "string")],
      ["bool", bool, (v) => typeof v === "boolean"],
    ];
    const problems: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const m = unpack(pack({ v: 2, t: "x", [pick(random, FIELDS)]: randomValue(random) })) as Message;
      const [name, check, ok] = pick(random, checks);
      const key = random() < 0.8 ? Object.keys(m).find((k) => k !== "v" && k !== "t") ?? "guest" : pick(random, FIELDS);
      try {
        const value = check(m, key);
        if (!ok(value)) problems.push(`${name}(${key}) returned ${String(value)}`);
      } catch (error) {
        if (!(error instanceof ProtocolError)) problems.push(`${name}(${key}): ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });
});

describe("fuzzing a host's request handling (in-process)", () => {
  let processGood: GuestSnapshot;
  let machineGood: GuestSnapshot;
  beforeAll(async () => {
    processGood = await processSnapshot();
    machineGood = await machineSnapshot();
  });

  /** Values for a field: sometimes right for it, often not. */
  function fieldValue(random: Random, key: string, ids: string[]): unknown {
    const r = random();
    if (r < 0.5) return randomValue(random);
    switch (key) {
      case "guest": return pick(random, [...ids, processGood.guest, machineGood.guest, { ...processGood.guest, ramBytes: NaN }]);
      case "elf": return readFileSync(new URL("../../guests/bin/process/hello.elf", import.meta.url));
      case "snapshot": case "changes": {
        const payload = payloadOf(pick(random, [processGood, machineGood]));
        if (r < 0.6) return encodeSnapshot(pick(random, [processGood, machineGood]));
        for (let n = 1 + below(random, 3); n > 0; n--) mutate(payload, random);
        return key === "snapshot" ? frame(payload) : payload;
      }
      case "to": return pick(random, ["ws://127.0.0.1:1", "not a url", ""]);
      case "path": return pick(random, ["/", "/x", "../../etc/passwd", "\0"]);
      default: return randomValue(random);
    }
  }

  /** The fields each request type reads: most are there (right or wrong), plus a few stray ones. */
  const FIELDS_OF: Record<string, string[]> = {
    run: ["elf", "program", "argv", "envp", "kind", "ramBytes", "attach"], attach: ["guest", "from"], input: ["guest", "offset", "data", "end"],
    kill: ["guest"], migrate: ["guest", "to", "strategy", "maxDowntimeMs", "bandwidth", "maxRounds"], checkpoint: ["guest", "leaveRunning"],
    restore: ["snapshot", "attach"], stats: ["guest"], "has-guest": ["guest"], "file-read": ["path", "length", "position"],
    "file-write": ["path", "data", "position", "append"], "file-stat": ["path"], "file-list": ["path"], "mig-begin": ["guest", "expected"],
    "mig-pages": ["indices", "data", "zero", "round"], "mig-prestate": ["snapshot"], "mig-state": ["snapshot", "changes", "missing"], "mig-urgent": ["guest"],
  };

  function randomRequest(random: Random, type: string, ids: string[], rid: number): Record<string, unknown> {
    const m: Record<string, unknown> = { t: type, rid };
    for (const key of FIELDS_OF[type] ?? []) if (random() < 0.8) m[key] = fieldValue(random, key, ids);
    for (let n = below(random, 3); n > 0; n--) {
      const key = pick(random, FIELDS);
      m[key] = fieldValue(random, key, ids);
    }
    return m;
  }

  test("random requests from a client and from a migrating host: errors, never stack traces, and the host keeps serving", async () => {
    const log: string[] = [];
    const host = new Host({ name: "F", host: "127.0.0.1", port: 0, root, log: (line) => log.push(line) });
    const random = seeded(0x4057);
    try {
      const client = connectFake(host);
      client.deliver({ t: "hello", rid: 1, role: "client" });
      await client.answer(1);
      let rid = 10;
      const answers = { reply: 0, error: 0 };
      const count = (m: Message) => { answers[m.t as "reply" | "error"]++; };
      for (let round = 0; round < 60; round++) {
        const ids = [...host.guests.keys()];
        for (let i = 0; i < 8; i++) client.deliver(randomRequest(random, pick(random, CLIENT_TYPES), ids, rid++));
        // A host sending a migration: the steps in order, some replaced by others, each awaited as a source would.
        const source = connectFake(host);
        source.deliver({ t: "hello", rid: 1, role: "host" });
        await source.answer(1);
        for (const step of ["mig-begin", "mig-pages", "mig-prestate", "mig-pages", "mig-state", "mig-commit"]) {
          const type = random() < 0.8 ? step : pick(random, HOST_TYPES);
          const asked = rid++;
          source.deliver(randomRequest(random, type, ids, asked));
          if (["mig-pages", "mig-state", "mig-abort"].includes(type)) {
            // Not answered unless refused: a mig-round behind it shows it has been handled.
            source.deliver({ t: "mig-round", rid: rid });
            await source.answer(rid++);
            if (source.answers.has(asked)) count(source.answers.get(asked)!);
          } else count(await source.answer(asked));
        }
        source.close();
        // Still serving: a ps after all of that is answered.
        client.deliver({ t: "ps", rid });
        expect((await client.answer(rid++)).t).toBe("reply");
      }
      for (const m of client.answers.values()) count(m);
      // Both outcomes were exercised: requests that worked and requests refused.
      expect(answers.reply).toBeGreaterThan(100);
      expect(answers.error).toBeGreaterThan(100);
    } finally {
      await host.close();
    }
    const stacks = log.filter((line) => line.startsWith("error handling"));
    expect(stacks.map((line) => line.split("\n").slice(0, 2).join(" | ")).slice(0, 8),
      "BUG (found by this fuzz, outside src/snapshot): (1) src/migration/destination.ts begin() lets ramBytes NaN through " +
      "(NaN <= 0, NaN % PAGE and NaN > 1 << 30 are all false) to core.init, which traps (RuntimeError: unreachable); fix: " +
      "`const info = checkGuestInfo(m.guest)` from src/snapshot/validate.ts (a SnapshotError naming the field). (2) a checkpoint " +
      "racing a kill: HostedGuest.guest throws a plain Error ('guest ... is killed') after freeze(); fix: throw a ProtocolError there.",
    ).toEqual([]);
  }, 120_000);
});
