// Postcopy recovery's other half (issue 13), with real host processes: a
// broken link is opened again (test/e2e/ordering.test.ts), but a source host
// that is gone cannot send the pages its guest still lacks. The destination
// finds its port refusing connections and reports the guest lost at once — not
// after the 30 s it would wait for a link to come back — with the reason in ps.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { ask, elfPath, HostProc, quickPs, stopAll, tempDir, waitUntil } from "./cluster.js";

const root = tempDir("postcopy-gone");
const hosts: HostProc[] = [];
afterAll(async () => {
  await stopAll(hosts);
  root.remove();
});

function startHost(name: string): Promise<HostProc> {
  return HostProc.start({ name, root: root.path, timeoutMs: 60_000 }).then((h) => (hosts.push(h), h));
}

describe("postcopy: the source host killed with pages still to send", () => {
  test("the destination sees the source's port refuse and reports the guest lost at once, saying why", async () => {
    const b = await startHost("B");
    const elf = readFileSync(elfPath("memwalk"));
    // The kill must land while pages are still on their way; a postcopy that finished first is tried again.
    for (let attempt = 1; ; attempt++) {
      const a = await startHost(`A${attempt}`);
      const ran = await ask(a.url, { t: "run", program: "memwalk", argv: ["memwalk", "--mib", "96", "--rounds", "0", "--fraction", "1"], elf, ramBytes: 128 << 20 });
      const id = (ran.guest as { id: string }).id;
      let settled = false;
      const migration = ask(a.url, { t: "migrate", guest: id, to: b.url, strategy: "postcopy" }).finally(() => (settled = true));
      migration.catch(() => {});
      while (!settled && !(await ask(b.url, { t: "has-guest", guest: id })).running) { /* asked again as each answer comes */ }
      if (settled) {
        await ask(b.url, { t: "kill", guest: id });
        expect(attempt, "every postcopy finished before its source could be killed").toBeLessThan(5);
        continue;
      }
      await a.crash();
      const killedAt = Date.now();
      const lost = await waitUntil(() => new RegExp(`guest ${id} lost: its postcopy source went away`).test(b.log), 20_000, "").then(() => true, () => false);
      if (!lost) { // every page had arrived just before the kill (the link never broke with pages missing): it runs on, whole
        expect(b.log).not.toContain(`guest ${id}: the link to its postcopy source broke`);
        await ask(b.url, { t: "kill", guest: id });
        expect(attempt, "every postcopy finished before its source could be killed").toBeLessThan(5);
        continue;
      }
      expect(Date.now() - killedAt, "noticed by the refused port, not by the 30 s wait").toBeLessThan(15_000);
      const listed = (await quickPs(b.url)).find((g) => g.id === id) as { status: string; report?: string } | undefined;
      expect(listed?.status).toBe("lost");
      expect(listed!.report).toMatch(/lost: its postcopy source went away with \d+ pages not yet here \(its host is gone\)/);
      return;
    }
  }, 180_000);
});
