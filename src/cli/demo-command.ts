// `roam demo`: what Roam is for, in a few seconds. Three hosts start on
// loopback; a guest program starts on the first and prints as it counts; while
// it runs, it is moved from host to host with each way of moving memory, and
// its output carries on as if nothing happened. At the end the guest's own
// result is checked against a run that never moved.

import { packageRoot } from "../package-root.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host } from "../cluster/host.js";
import { Core } from "../machine/core.js";
import { ProcessGuest } from "../guest/process-guest.js";
import type { MigrationStats, Strategy } from "../migration/stats.js";
import { connect } from "../net/peer.js";
import type { CommandSpec } from "./args.js";
import { Attachment } from "./attachment.js";

export const DEMO_SPEC: CommandSpec = {
  name: "demo", usage: "", positionals: [], options: [],
  summary: "three hosts on loopback; a running guest moves between them",
  about: `Starts three hosts in this process, runs a counting guest on the first and
moves it between them with each strategy while its output carries on; then
checks the output against a run that never moved (exit 0 when they match).`,
};

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

function guestElf(name: string): Uint8Array {
  return readFileSync(join(packageRoot(), "guests", "bin", "process", `${name}.elf`));
}

export async function demoCommand(): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), "roam-demo-"));
  const hosts = ["alpha", "beta", "gamma"].map((name) => new Host({ name, host: "127.0.0.1", port: 0, root }));
  try {
    for (const h of hosts) await h.listen();
    const say = (line: string) => process.stdout.write(dim(`  | ${line}`) + "\n");
    say(`three hosts on loopback: ${hosts.map((h) => `${h.name} ${h.url}`).join(", ")}`);

    const elf = guestElf("counter");
    const argv = ["counter", "24", "1", "150"]; // 24 steps, a line each, 150 ms apart
    const client = await connect(hosts[0].url, { role: "client" });
    const ran = await client.request({ t: "run", program: "counter", argv, elf, ramBytes: 16 << 20 });
    client.close();
    const id = (ran.guest as { id: string }).id;
    say(`guest ${id} (${argv.join(" ")}) started on ${hosts[0].name}; its output follows it:`);

    const output: Buffer[] = [];
    const attachment = new Attachment(hosts[0].url, id, (data) => { output.push(Buffer.from(data)); process.stdout.write(data); }, undefined, 0);
    await attachment.start();

    const moves: Array<[number, number, Strategy]> = [[0, 1, "precopy"], [1, 2, "postcopy"], [2, 0, "stop-copy"], [0, 1, "hybrid"]];
    for (const [from, to, strategy] of moves) {
      await new Promise((r) => setTimeout(r, 550));
      const c = await connect(hosts[from].url, { role: "client" });
      const reply = await c.request({ t: "migrate", guest: id, to: hosts[to].url, strategy, maxDowntimeMs: 5 });
      c.close();
      const s = reply.stats as MigrationStats;
      say(`${bold(`moved ${hosts[from].name} -> ${hosts[to].name}`)} by ${strategy}: downtime ${s.downtimeMs.toFixed(2)} ms, ` +
        `total ${s.totalMs.toFixed(1)} ms, ${s.pagesSent} pages (${(s.bytes / 1048576).toFixed(2)} MiB), ${s.zeroPagesSkipped} zero pages skipped` +
        (s.postcopy ? `, ${s.postcopy.faults} page faults served remotely` : ""));
    }
    const result = await attachment.done;

    // The same program, never moved, for comparison.
    const still = ProcessGuest.start({ core: await Core.load(), root, hostName: "reference" }, { elf, program: "counter", argv });
    const reference: Buffer[] = [];
    still.console.onOutput((_o, data) => reference.push(Buffer.from(data)));
    const stillResult = await still.run();
    const same = Buffer.concat(output).equals(Buffer.concat(reference)) && result.code === stillResult.exitCode;
    say(same
      ? `the guest moved 4 times between 3 hosts and printed exactly what an unmoved run prints (exit ${result.code})`
      : `MISMATCH: the moved guest's output differs from an unmoved run`);
    return same ? 0 : 1;
  } finally {
    for (const h of hosts) await h.close();
    rmSync(root, { recursive: true, force: true });
  }
}
