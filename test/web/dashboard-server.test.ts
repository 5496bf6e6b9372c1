// The dashboard's server on its own (src/web/dashboard.ts), fed by a fixed
// one-host cluster: with a token, the state and the live socket need it (the
// static page does not); the live socket sends the state at once and again
// each second; a member whose report does not come is named in the state.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Dashboard } from "../../src/web/dashboard.js";
import type { MemberView } from "../../src/cluster/membership.js";
import type { HostReport } from "../../src/web/host-report.js";

const member = (name: string, port: number, state: MemberView["state"]): MemberView => ({
  url: `ws://127.0.0.1:${port}`, name, incarnation: 1, seq: 1, capacity: null, speed: null, labels: [], guests: 0, runnable: 0, ipsGiven: 0,
  ipsWanted: 0, memoryUsed: 0, memoryFree: 0, dirtyBytesPerSecond: 0, messagesPerSecond: 0, crossingBytesPerSecond: 0, state, ageMs: 0,
});
const report: HostReport = { name: "A", url: "ws://127.0.0.1:1", guests: [], migrations: [], policy: "none", decisions: [] };

function frames(url: string): { next: () => Promise<Record<string, unknown>>; close: () => void; refused: Promise<string> } {
  const ws = new WebSocket(url);
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<(m: Record<string, unknown>) => void> = [];
  ws.on("message", (data) => { const m = JSON.parse(String(data)); const w = waiting.shift(); if (w) w(m); else queue.push(m); });
  const refused = new Promise<string>((resolve) => { ws.on("unexpected-response", (_req, res) => resolve(String(res.statusCode))); ws.on("error", (e) => resolve(e.message)); });
  return { next: () => new Promise((resolve) => { const m = queue.shift(); if (m) resolve(m); else waiting.push(resolve); }), close: () => ws.close(), refused };
}

describe("the dashboard's server", () => {
  let dashboard: Dashboard;
  let base = "";

  beforeAll(async () => {
    dashboard = new Dashboard({
      name: "A",
      members: () => [member("A", 1, "self"), member("B", 2, "up")],
      ownReport: () => report,
      askReport: async () => { throw new Error("no answer"); },
    }, { token: "secret", log: () => {} });
    base = await dashboard.listen("127.0.0.1", 0);
  });

  afterAll(async () => {
    await dashboard.close();
  });

  it("serves the page to anyone, the state only with ?token=", async () => {
    expect((await fetch(base)).status).toBe(200);
    const refused = await fetch(new URL("/state.json", base));
    expect([refused.status, await refused.text()]).toEqual([403, "wrong or missing ?token=\n"]);
    const state = await (await fetch(new URL("/state.json?token=secret", base))).json() as { self: string; members: MemberView[]; unreachable: string[] };
    expect(state.self).toBe("A");
    expect(state.members.map((m) => m.name)).toEqual(["A", "B"]);
    expect(state.unreachable).toEqual(["B"]);
    expect((await fetch(new URL("/state.json?token=secret", base), { method: "POST" })).status).toBe(405);
  });

  it("live: refused without the token; with it, the state at once and again each second", async () => {
    const live = base.replace(/^http/, "ws") + "live";
    expect(await frames(live).refused).toBe("403");
    expect(await frames(`${live}?token=wrong`).refused).toBe("403");
    const socket = frames(`${live}?token=secret`);
    try {
      const first = await socket.next();
      expect(first).toMatchObject({ t: "state", self: "A" });
      const second = await socket.next();
      expect(second.at as number).toBeGreaterThan(first.at as number);
    } finally {
      socket.close();
    }
  });
});
