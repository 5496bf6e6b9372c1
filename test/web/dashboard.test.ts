// `roam host --dashboard`: the page, loaded in headless Chromium (test/web/cdp.ts)
// against two real hosts, shows the cluster live: both hosts with a plotted
// line each, a guest the balancer moved (its decision and reason, its
// migration, the hosts it ran on), then a migration a client asked for, with
// the strategy, downtime and bytes the migration itself reported. The page
// logs no error. ROAM_SCREENSHOT=FILE saves a PNG of it (npm run screenshot
// writes docs/dashboard.png).
//
// Each wait is for the page's DOM to change (cdp.ts's waitFor), bounded.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { elfPath, HostProc, roam, stopAll, tempDir, type Stats } from "../e2e/cluster.js";
import { Chromium, type Page } from "./cdp.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
// CI sets ROAM_REQUIRE_CHROMIUM: there a missing browser is a failure, not a skip.
if (!haveChromium && process.env.ROAM_REQUIRE_CHROMIUM) throw new Error(`${CHROMIUM} is required (ROAM_REQUIRE_CHROMIUM) but missing`);

const CAPPED = ["--force", "--capacity", "40M"];

/** GET `path` from the dashboard with a chosen Host header: status and body. */
function get(base: string, path: string, hostHeader?: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: hostHeader ? { host: hostHeader } : {} }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe.skipIf(!haveChromium)("the dashboard in headless Chromium", () => {
  const root = tempDir("dashboard");
  const hosts: HostProc[] = [];
  let browser: Chromium;
  let page: Page;
  let dashboard = "";

  beforeAll(async () => {
    const a = await HostProc.start({ name: "A", root: root.path, extra: [...CAPPED, "--balance", "sender", "--dashboard", "127.0.0.1:0"] });
    hosts.push(a, await HostProc.start({ name: "B", root: root.path, extra: [...CAPPED, "--join", a.url] }));
    dashboard = /dashboard on (http:\/\/\S+)/.exec(a.log)![1];
    browser = await Chromium.launch();
    page = await browser.newPage(1400, 1000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stopAll(hosts);
    root.remove();
  });

  it("draws the hosts, their load, a balancing decision and the migrations live", async () => {
    const [a, b] = hosts;
    await page.navigate(dashboard);
    await page.waitFor(`document.querySelectorAll("#hosts tbody tr").length === 2 && document.querySelector("#connection").textContent === "live"`, 20_000, "both hosts in the table");
    expect(await page.evaluate<string[]>(`[...document.querySelectorAll("#hosts tbody tr td:first-child")].map((td) => td.textContent)`)).toEqual(["A", "B"]);

    // Two guests on A, capped at 40M together: A's balancer (sender) moves one to B, saying why.
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await roam(["run", "--on", a.url, "--detach", "--ram", "4M", elfPath("compute"), "100000"]);
      expect(r.code, r.describe()).toBe(0);
      ids.push(r.stdout.trim());
    }
    const balanced = await page.waitFor<string>(`[...document.querySelectorAll("#decisions tbody tr")].map((tr) => tr.innerText).find((t) => /\\bmigrate\\b/.test(t) && t.includes("overloaded"))`,
      60_000, "the balancer's decision in the page");
    const movedByBalancer = ids.find((id) => balanced.includes(id))!;
    expect(movedByBalancer, balanced).toBeDefined();
    expect(balanced).toMatch(/\bA\b.*sender.*migrate.*A → B.*which: age/s);
    await page.waitFor(`document.querySelector('#migrations tr[data-guest="${movedByBalancer}"]')?.innerText.includes("completed")`, 30_000, "the balancer's migration, completed");

    // A migration a client asks for: by stop-and-copy, so its strategy differs from the balancer's precopy.
    const other = ids.find((id) => id !== movedByBalancer)!;
    const r = await roam(["migrate", other, "--on", a.url, "--to", b.url, "--strategy", "stop-copy", "--json"], { timeoutMs: 60_000 });
    expect(r.code, r.describe()).toBe(0);
    const stats = JSON.parse(r.stdout) as Stats;
    const cells = await page.waitFor<string[]>(`(() => { const tr = document.querySelector('#migrations tr[data-guest="${other}"]');
      return tr && tr.innerText.includes("completed") && [...tr.cells].map((td) => td.textContent); })()`, 20_000, `the migration of ${other} in the page`);
    expect(cells.slice(1, 5)).toEqual([other, "A → B", "stop-copy", "completed"]);
    expect(Number(cells[5])).toBeCloseTo(stats.downtimeMs, 1);
    expect(cells[6]).toBe((stats.bytes / 1048576).toFixed(stats.bytes < 10485760 ? 1 : 0));

    // Both guests now run on B, each having run on A first.
    const rows = await page.waitFor<string[][]>(`(() => { const rows = [...document.querySelectorAll("#guests tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent));
      return rows.length === 2 && rows.every((r) => r[2] === "B") && rows; })()`, 20_000, "both guests listed on B");
    expect(rows.map((row) => row[0]).sort()).toEqual([...ids].sort());
    for (const row of rows) expect(row[6]).toBe("A → B");

    // The plots: a line per host, each through several samples, and a mark at each migration.
    for (const plot of ["plot-ips", "plot-load"]) {
      const drawn = await page.evaluate<Array<{ host: string; points: number }>>(`[...document.querySelectorAll("#${plot} path.series")].map((p) => ({ host: p.dataset.host, points: (p.getAttribute("d").match(/[ML]/g) || []).length }))`);
      expect(drawn.map((d) => d.host), plot).toEqual(["A", "B"]);
      for (const d of drawn) expect(d.points, `${plot} ${d.host}`).toBeGreaterThan(3);
      expect(await page.evaluate<number>(`document.querySelectorAll("#${plot} line.migration").length`)).toBe(2);
    }
    // B's line in the ips plot rose once guests arrived: the page draws what the hosts measured.
    expect(await page.evaluate<number>(`Math.min(...document.querySelector('#plot-ips path[data-host="B"]').getAttribute("d").split(/[ML]/).filter(Boolean).map((p) => Number(p.split(",")[1])))`))
      .toBeLessThan(await page.evaluate<number>(`Number(document.querySelector("#plot-ips line.axis").getAttribute("y1"))`) - 20);

    // The hosts table shows what the balancer compares: B, which has run both guests flat out, its measured speed
    // (a number of M instructions/s), and every host the balancer's load index (load-vector.ts loadOf, which the page
    // is sent: it no longer divides by the capacity alone, which an uncapped host does not have).
    const speedOfB = await page.waitFor<string>(`(() => { const head = [...document.querySelectorAll("#hosts thead th")].map((th) => th.textContent);
      const row = [...document.querySelectorAll("#hosts tbody tr")].find((tr) => tr.cells[0].textContent === "B");
      const cell = row?.cells[head.indexOf("speed")].textContent; return /^[0-9.]+M$/.test(cell ?? "") && cell; })()`, 30_000, "B's measured speed");
    expect(Number(speedOfB.slice(0, -1))).toBeGreaterThan(0);
    const loads = await page.evaluate<string[]>(`(() => { const i = [...document.querySelectorAll("#hosts thead th")].map((th) => th.textContent).indexOf("load");
      return [...document.querySelectorAll("#hosts tbody tr")].map((tr) => tr.cells[i].textContent); })()`);
    for (const load of loads) expect(load).toMatch(/^\d+\.\d\d$/);

    expect(page.errors).toEqual([]);
    if (process.env.ROAM_SCREENSHOT) {
      // For the docs: a minute of history in the plots first (the host samples once a second).
      await page.waitFor(`document.querySelector('#plot-ips path[data-host="B"]').getAttribute("d").split("L").length > 60`, 120_000, "a minute of samples");
      writeFileSync(process.env.ROAM_SCREENSHOT, await page.screenshot());
    }
  }, 300_000);

  it("refuses what is not the dashboard: another site's Host header, unknown paths, other methods", async () => {
    expect((await get(dashboard, "/")).status).toBe(200);
    expect(await get(dashboard, "/", `evil.example:${new URL(dashboard).port}`)).toEqual({ status: 403, body: "this dashboard answers only to the address it listens on\n" });
    expect(await get(dashboard, "/../package.json")).toMatchObject({ status: 404 });
    expect(await get(dashboard, "/etc/passwd")).toEqual({ status: 404, body: "/etc/passwd: not found (the dashboard is at /)\n" });
    const state = JSON.parse((await get(dashboard, "/state.json")).body) as { members: Array<{ name: string }> };
    expect(state.members.map((m) => m.name)).toEqual(["A", "B"]);
  });

  it("a bad --dashboard address is a one-line usage error; a taken port stops the host saying so", async () => {
    const bad = await roam(["host", "--listen", "127.0.0.1:0", "--root", root.path, "--dashboard", "8080"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^roam: host: --dashboard 8080: expected HOST:PORT, e\.g\. 127\.0\.0\.1:8080\n/);
    const taken = new URL(dashboard).port;
    const clash = await roam(["host", "--listen", "127.0.0.1:0", "--root", root.path, "--dashboard", `127.0.0.1:${taken}`]);
    expect(clash.code, clash.describe()).not.toBe(0);
    expect(clash.stderr).toContain(`roam: host: --dashboard 127.0.0.1:${taken}: `);
  });
});
