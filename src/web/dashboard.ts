// `roam host --dashboard 127.0.0.1:8080`: a web page of the whole cluster as
// this host sees it (cluster-feed.ts), kept live over a WebSocket. A small
// node:http server: the page's three static files (src/web/static/), the
// state as JSON at /state.json (for curl and scripts), and /live, where each
// page gets the whole state once a second.
//
// With --token the state and /live need ?token=T (the page passes on its own
// ?token=); the static files carry no data. Requests whose Host header names
// another site are refused, so a web page elsewhere cannot read the cluster
// through DNS rebinding.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { packageRoot } from "../package-root.js";
import { exposureWarning, tokensEqual } from "../net/tls.js";
import { errnoWords } from "../cli/failure.js";
import type { HostCluster } from "../cluster/host-cluster.js";
import { ClusterFeed, type FeedSource } from "./cluster-feed.js";
import type { HostReport } from "./host-report.js";

const TICK_MS = 1000;

const STATIC: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
};

const HEADERS = {
  "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

/** "HOST:PORT" as --dashboard takes it; throws saying what is wrong. */
export function parseDashboardAddress(text: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65535) throw new Error(`--dashboard ${text}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  return { host: match[1].replace(/^\[(.*)\]$/, "$1"), port: Number(match[2]) };
}

export class Dashboard {
  readonly feed: ClusterFeed;
  private readonly files = new Map<string, Buffer>();
  private readonly server: Server;
  private readonly sockets: WebSocketServer;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private address = "";

  constructor(source: FeedSource, private readonly options: { token?: string; log: (line: string, level?: "info" | "warn") => void }) {
    this.feed = new ClusterFeed(source);
    const dir = join(packageRoot(), "src/web/static");
    for (const { file } of Object.values(STATIC)) this.files.set(file, readFileSync(join(dir, file)));
    this.server = createServer((request, response) => this.serve(request, response));
    this.sockets = new WebSocketServer({ noServer: true, maxPayload: 4096 });
    this.server.on("upgrade", (request, socket, head) => {
      const url = new URL(request.url ?? "/", "http://x");
      if (url.pathname !== "/live" || !this.allowedHost(request) || !this.tokenOk(url)) {
        socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
        return;
      }
      this.sockets.handleUpgrade(request, socket, head, (ws) => {
        this.welcome(ws).catch((error: Error) => { this.options.log(`dashboard: ${error.message}`, "warn"); ws.close(1011, "the state could not be read"); });
      });
    });
  }

  /** Listens; resolves with the page's URL. */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => { this.server.off("error", reject); resolve(); });
    });
    const address = this.server.address();
    const bound = typeof address === "object" && address ? address.port : port;
    this.address = `http://${host.includes(":") ? `[${host}]` : host}:${bound}/`;
    this.feed.sample();
    const tick = () => {
      void this.tick()
        .catch((error: Error) => this.options.log(`dashboard: ${error.message}`, "warn"))
        .finally(() => { this.timer = setTimeout(tick, TICK_MS); this.timer.unref(); });
    };
    this.timer = setTimeout(tick, TICK_MS);
    this.timer.unref();
    return this.address;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    for (const ws of this.sockets.clients) ws.terminate();
    this.sockets.close();
    await new Promise<void>((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); });
  }

  /** Once a second: a load sample of every member; with a page open, every member's report, then the state to each page. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.feed.sample();
      if (this.sockets.clients.size === 0) return;
      await this.feed.gather();
      const frame = JSON.stringify(this.feed.state());
      for (const ws of this.sockets.clients) if (ws.readyState === ws.OPEN) ws.send(frame);
    } finally {
      this.ticking = false;
    }
  }

  private async welcome(ws: WebSocket): Promise<void> {
    ws.on("message", () => ws.close(1003, "this socket only sends")); // the page has nothing to say
    ws.on("error", () => {});
    await this.feed.gather();
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(this.feed.state()));
  }

  private serve(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://x");
    if (!this.allowedHost(request)) return this.fail(response, 403, "this dashboard answers only to the address it listens on");
    if (request.method !== "GET" && request.method !== "HEAD") return this.fail(response, 405, `${request.method}: only GET and HEAD`);
    if (url.pathname === "/state.json") {
      if (!this.tokenOk(url)) return this.fail(response, 403, "wrong or missing ?token=");
      this.feed.gather().then(
        () => this.send(response, "application/json", Buffer.from(JSON.stringify(this.feed.state()))),
        (error: Error) => this.fail(response, 500, `the state could not be read: ${error.message}`),
      );
      return;
    }
    const entry = STATIC[url.pathname];
    if (!entry) return this.fail(response, 404, `${url.pathname}: not found (the dashboard is at /)`);
    this.send(response, entry.type, this.files.get(entry.file)!);
  }

  private send(response: ServerResponse, type: string, body: Buffer): void {
    response.writeHead(200, { ...HEADERS, "Content-Type": type, "Content-Length": body.length });
    response.end(response.req.method === "HEAD" ? undefined : body);
  }

  private fail(response: ServerResponse, status: number, why: string): void {
    response.writeHead(status, { ...HEADERS, "Content-Type": "text/plain; charset=utf-8" });
    response.end(`${why}\n`);
  }

  private tokenOk(url: URL): boolean {
    return this.options.token === undefined || tokensEqual(url.searchParams.get("token") ?? "", this.options.token);
  }

  /** The Host header names this server (its address, or a loopback name at its port): not a rebound name. */
  private allowedHost(request: IncomingMessage): boolean {
    const said = request.headers.host;
    if (!said) return false;
    const own = new URL(this.address);
    let asked: URL;
    try { asked = new URL(`http://${said}/`); } catch { return false; }
    const port = asked.port || "80";
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(asked.hostname);
    return port === own.port && (asked.hostname === own.hostname || loopback || own.hostname === "0.0.0.0" || own.hostname === "[::]");
  }
}

/** A dashboard that could not start (its address is taken, not this machine's, ...): the host does not start either. */
export class DashboardRefused extends Error {}

/** Starts the dashboard of a host at `address` ("HOST:PORT"), from what its cluster part knows; logs its URL. */
export async function openDashboard(address: string, cluster: HostCluster, host: { name: string; token?: string; log: (line: string, level?: "info" | "warn") => void }): Promise<Dashboard> {
  let where: { host: string; port: number };
  try { where = parseDashboardAddress(address); } catch (error) { throw new DashboardRefused((error as Error).message); }
  const dashboard = new Dashboard({
    name: host.name,
    members: () => cluster.membership.view(),
    ownReport: () => cluster.dashReport(),
    askReport: async (url, timeoutMs) => (await cluster.membership.ask(url, { t: "dash-report" }, timeoutMs)) as unknown as HostReport,
  }, { token: host.token, log: host.log });
  try {
    const url = await dashboard.listen(where.host, where.port);
    host.log(`dashboard on ${url}${host.token === undefined ? "" : " (add ?token=T)"}`, "info");
    const warning = exposureWarning(where.host, where.port, false, host.token !== undefined);
    if (warning) host.log(`${warning.replace(/^roam host: listening/, "dashboard: listening")} (the dashboard shows every guest and host)`, "warn");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DashboardRefused(`--dashboard ${address}: ${errnoWords(code) ?? (error as Error).message}`);
  }
  return dashboard;
}
