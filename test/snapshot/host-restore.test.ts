// A host given a damaged snapshot — a `restore` request, or a migration's
// prestate or final state — refuses it with the SnapshotError's one line,
// logs no stack trace, and goes on serving. Driven in-process (fake-socket.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { encodeSnapshot, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { connectFake, type FakeSocket } from "./fake-socket.js";
import { fixtureRoot, frame, payloadOf, processSnapshot, type Payload } from "./fixtures.js";
import { openFileAt, openFileIndex } from "./open-files.js";

const root = mkdtempSync(join(tmpdir(), "roam-host-restore-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(fixtureRoot, { recursive: true, force: true });
});

let good: GuestSnapshot;
beforeAll(async () => { good = await processSnapshot(); });

let host: Host;
let log: string[];
beforeEach(() => {
  log = [];
  host = new Host({ name: "H", host: "127.0.0.1", port: 0, root, log: (line) => log.push(line) });
});
afterEach(async () => {
  await host.close();
  expect(log.filter((line) => line.includes("error handling") || line.includes("    at ")), "stack traces in the host log").toEqual([]);
});

function damaged(damage: (p: Payload) => void): Uint8Array {
  const payload = payloadOf(good);
  damage(payload);
  return frame(payload);
}

let rid = 100;
async function ask(socket: FakeSocket, message: Record<string, unknown>) {
  const id = rid++;
  socket.deliver({ ...message, rid: id });
  return socket.answer(id);
}

async function greeted(role: "client" | "host"): Promise<FakeSocket> {
  const socket = connectFake(host);
  expect((await ask(socket, { t: "hello", role })).t).toBe("reply");
  return socket;
}

describe("a host refuses damaged snapshots and keeps serving", () => {
  test("restore request", async () => {
    const client = await greeted("client");
    const cases: Array<[(p: Payload) => void, string]> = [
      [(p) => { openFileAt(p.process, 3).position = -1; }, `bad snapshot: process.openFiles.files[${openFileIndex(good.process!, 3).fileIndex}].position: not a non-negative integer`],
      [(p) => { p.guest.ramBytes = NaN; }, "bad snapshot: guest.ramBytes: NaN is not an integer in [4096, 1073741824]"],
      [(p) => { p.process.tasks[0].addressSpace.rootFrame = "0"; }, 'bad snapshot: process.tasks[0].addressSpace.rootFrame: "0" is not an integer in [0, 1023]'],
    ];
    for (const [damage, message] of cases) {
      expect(await ask(client, { t: "restore", snapshot: damaged(damage) })).toMatchObject({ t: "error", message });
    }
    expect(await ask(client, { t: "ps" })).toMatchObject({ t: "reply", guests: [] });
    // And a good one is taken.
    expect(await ask(client, { t: "restore", snapshot: encodeSnapshot(good) })).toMatchObject({ t: "reply", guest: { id: good.guest.id } });
  });

  test("a migration's prestate, and its final state changes (which fail the commit)", async () => {
    const source = await greeted("host");
    expect(await ask(source, { t: "mig-begin", guest: good.guest })).toMatchObject({ t: "reply" });
    const badPrestate = damaged((p) => { p.process.tasks[0].files.cwd = "../.."; });
    expect(await ask(source, { t: "mig-prestate", snapshot: badPrestate }))
      .toMatchObject({ t: "error", message: "bad snapshot: process.tasks[0].files.cwd: not an absolute, normalised guest path" });
    expect(await ask(source, { t: "mig-prestate", snapshot: encodeSnapshot(good) })).toMatchObject({ t: "reply" });
    source.deliver({ t: "mig-state", changes: { hart: good.hart, process: { current: -1 } } }); // not answered: the commit says
    expect(await ask(source, { t: "mig-commit" }))
      .toMatchObject({ t: "error", message: "mig-state: bad snapshot: process.current: -1 is not an integer in [1, 2147483647]" });
    source.deliver({ t: "mig-state", snapshot: damaged((p) => { p.hart = p.hart.subarray(1); }) });
    expect(await ask(source, { t: "mig-commit" }))
      .toMatchObject({ t: "error", message: "mig-state: bad snapshot: hart: 511 bytes; the hart state must be 512 bytes" });
    const client = await greeted("client");
    expect(await ask(client, { t: "ps" })).toMatchObject({ t: "reply", guests: [] });
  });
});
