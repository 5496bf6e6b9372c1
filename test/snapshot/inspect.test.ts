// `roam inspect` of a checkpoint whose checksum is right but whose content is
// not: one line naming the field, exit 2, nothing on stdout — never a raw
// JavaScript error. Runs the CLI as a user would (needs `npm run build`).
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeSnapshot, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import { fixtureRoot, frame, machineSnapshot, payloadOf, processSnapshot, type Payload } from "./fixtures.js";
import { openFileAt, openFileIndex } from "./open-files.js";

const ROAM = new URL("../../bin/roam.js", import.meta.url).pathname;
afterAll(() => rmSync(fixtureRoot, { recursive: true, force: true }));

let processGood: GuestSnapshot;
let machineGood: GuestSnapshot;
beforeAll(async () => {
  processGood = await processSnapshot();
  machineGood = await machineSnapshot();
});

function inspect(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ROAM, "inspect", file], (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("roam inspect of a damaged snapshot", () => {
  test("each damaged field: exit 2 and one line `roam: FILE: bad snapshot: <field>: <why>`", async () => {
    const cases: Array<[string, GuestSnapshot, (p: Payload) => void, string]> = [
      ["position", processGood, (p) => { openFileAt(p.process, 3).position = -3; }, `process.openFiles.files[${openFileIndex(processGood.process!, 3).fileIndex}].position: not a non-negative integer`],
      ["ram-nan", processGood, (p) => { p.guest.ramBytes = NaN; }, "guest.ramBytes: NaN is not an integer in [4096, 1073741824]"],
      ["files-not-list", processGood, (p) => { p.process.openFiles.files = { 3: "x" }; }, "process.openFiles.files: not a list"],
      ["fds-not-list", processGood, (p) => { p.process.tasks[0].files.fds = { 3: "x" }; }, "process.tasks[0].files.fds: not a list"],
      ["regions-nested", processGood, (p) => { p.process.tasks[0].addressSpace.regions = [[p.process.tasks[0].addressSpace.regions[0]]]; }, "process.tasks[0].addressSpace.regions[0]: not a map"],
      ["uart-input", machineGood, (p) => { p.machine.uart.input = [1, -1]; }, "machine.uart.input[1]: -1 is not an integer in [0, 255]"],
    ];
    for (const [name, good, damage, message] of cases) {
      const payload = payloadOf(good);
      damage(payload);
      const file = join(fixtureRoot, `${name}.snap`);
      writeFileSync(file, frame(payload));
      const r = await inspect(file);
      expect({ name, ...r }).toEqual({ name, code: 2, stdout: "", stderr: `roam: ${file}: bad snapshot: ${message}\n` });
    }
  }, 60_000);

  test("a good snapshot is described, exit 0", async () => {
    const file = join(fixtureRoot, "good.snap");
    writeFileSync(file, encodeSnapshot(processGood));
    const r = await inspect(file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fd 3: file \/data\.txt at 17/);
  }, 60_000);
});
