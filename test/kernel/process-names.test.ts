// What `roam ps` shows for each process of a guest (its comm): Linux names a
// process after the file execve ran — the basename of the path it was given,
// 15 bytes at most — and a script after the script, not its interpreter; a
// BusyBox applet run in a forked shell names itself (prctl). Read from the
// process list while a BusyBox pipeline runs, once the stages are there.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { ProcessGuest } from "../../src/guest/process-guest.js";
import { Core } from "../../src/machine/core.js";
import { waitUntil } from "../e2e/cluster.js";
import { ROOT } from "../process-harness.js";

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

test("a BusyBox pipeline's stages show the names Linux gives them: a script's own (truncated to 15), an applet's", async () => {
  const root = mkdtempSync(join(tmpdir(), "roam-names-"));
  dirs.push(root);
  copyFileSync(join(ROOT, "guests", "bin", "real", "busybox.elf"), join(root, "busybox.elf"));
  chmodSync(join(root, "busybox.elf"), 0o755);
  // It says it has started, then waits for a line of terminal input: it stays in the list until the test answers.
  writeFileSync(join(root, "a-long-script-name-here"), '#!/busybox.elf sh\necho started >&2\nread line\necho "got $line"\n');
  chmodSync(join(root, "a-long-script-name-here"), 0o755);
  const guest = ProcessGuest.start(
    { core: await Core.load(), root, hostName: "A" },
    { elf: readFileSync(join(root, "busybox.elf")), program: "busybox.elf", argv: ["busybox.elf", "sh", "-c", "./a-long-script-name-here | md5sum"], ramBytes: 64 << 20 },
  );
  let output = "";
  guest.console.onOutput((_stream, bytes) => { output += Buffer.from(bytes).toString(); });
  const done = guest.run();
  const names = () => guest.processes().filter((p) => p.state !== "zombie").map((p) => p.name);
  await waitUntil(() => output.includes("started"), 30_000, () => `the script to start (output: ${JSON.stringify(output)})`);
  // The md5sum stage names itself when it runs (prctl): wait for that, not for a guessed time.
  await waitUntil(() => names().includes("md5sum"), 30_000, () => `md5sum in the list (${JSON.stringify(guest.processes())})`);
  expect(names()).toEqual(["busybox.elf", "a-long-script-n", "md5sum"]);
  guest.console.pushInput(0, Buffer.from("hello\n"));
  guest.console.endInput();
  const result = await done;
  expect(result.exitCode, output).toBe(0);
  expect(output).toBe(`started\n${createHash("md5").update("got hello\n").digest("hex")}  -\n`);
}, 60_000);
