// Headless Chromium driven over the Chrome DevTools Protocol, with no npm
// package but `ws`: the browser is started with --remote-debugging-port=0, says
// where it listens on stderr ("DevTools listening on ws://..."), and each page
// is a target attached in flat mode (its commands carry a sessionId).
// Console errors, uncaught exceptions and failed loads are collected per page.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

type Params = Record<string, unknown>;
interface Pending { resolve: (value: Params) => void; reject: (error: Error) => void; method: string }

export class Chromium {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(method: string, params: Params, sessionId?: string) => void>();
  private nextId = 1;

  private constructor(private readonly child: ChildProcess, private readonly ws: WebSocket, private readonly profile: string) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { id?: number; method?: string; params?: Params; result?: Params; error?: { message: string }; sessionId?: string };
      if (m.id !== undefined) {
        const waiting = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) waiting?.reject(new Error(`${waiting.method}: ${m.error.message}`));
        else waiting?.resolve(m.result ?? {});
      } else if (m.method) for (const listener of this.listeners) listener(m.method, m.params ?? {}, m.sessionId);
    });
    ws.on("close", () => { for (const p of this.pending.values()) p.reject(new Error(`${p.method}: the browser closed its DevTools socket`)); this.pending.clear(); });
  }

  /** Starts a headless Chromium; resolves once its DevTools socket is open. */
  static async launch(timeoutMs = 30_000): Promise<Chromium> {
    const profile = mkdtempSync(join(tmpdir(), "roam-chromium-"));
    const args = ["--headless=new", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "--no-first-run", "--no-default-browser-check",
      "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--hide-scrollbars", "--mute-audio", "about:blank"];
    if (process.getuid?.() === 0) args.unshift("--no-sandbox"); // Chromium refuses to run as root with its sandbox
    const child = spawn(CHROMIUM, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`chromium did not say where DevTools listens within ${timeoutMs} ms:\n${stderr.slice(-2000)}`)); }, timeoutMs);
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match) { clearTimeout(timer); resolve(match[1]); }
      });
      child.once("error", (error) => { clearTimeout(timer); reject(new Error(`${CHROMIUM}: ${error.message}`)); });
      child.once("exit", (code, signal) => { clearTimeout(timer); reject(new Error(`chromium exited (${code ?? signal}) before DevTools listened:\n${stderr.slice(-2000)}`)); });
    });
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => { ws.once("open", () => resolve()); ws.once("error", reject); });
    return new Chromium(child, ws, profile);
  }

  /** A CDP command (on a page's session when `sessionId` is given); rejects with the browser's error. */
  send(method: string, params: Params = {}, sessionId?: string): Promise<Params> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(listener: (method: string, params: Params, sessionId?: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new tab of `width` x `height`, attached, with its console and errors collected. */
  async newPage(width = 1280, height = 900): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    await page.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
    for (const domain of ["Page", "Runtime", "Log"]) await page.send(`${domain}.enable`);
    return page;
  }

  async close(): Promise<void> {
    await this.send("Browser.close").catch(() => {});
    this.ws.close();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  /** Console errors, uncaught exceptions and failed loads, as one line each. */
  readonly errors: string[] = [];
  private readonly loads = new Set<() => void>();

  constructor(private readonly browser: Chromium, private readonly sessionId: string) {
    browser.on((method, params, session) => {
      if (session !== sessionId) return;
      if (method === "Page.loadEventFired") for (const done of this.loads) done();
      else if (method === "Runtime.consoleAPICalled" && (params.type === "error" || params.type === "assert")) {
        this.errors.push(`console.${params.type}: ${(params.args as Array<{ value?: unknown; description?: string }>).map((a) => a.value ?? a.description).join(" ")}`);
      } else if (method === "Runtime.exceptionThrown") {
        const details = params.exceptionDetails as { text: string; exception?: { description?: string } };
        this.errors.push(`uncaught: ${details.exception?.description ?? details.text}`);
      } else if (method === "Log.entryAdded") {
        const entry = params.entry as { level: string; text: string; url?: string };
        if (entry.level === "error") this.errors.push(`log: ${entry.text}${entry.url ? ` (${entry.url})` : ""}`);
      }
    });
  }

  send(method: string, params: Params = {}): Promise<Params> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** Loads `url`; resolves at its load event. */
  async navigate(url: string, timeoutMs = 30_000): Promise<void> {
    let done!: () => void;
    const loaded = new Promise<void>((resolve) => (done = resolve));
    this.loads.add(done);
    try {
      const answer = await this.send("Page.navigate", { url });
      if (answer.errorText) throw new Error(`navigate ${url}: ${answer.errorText}`);
      await withTimeout(loaded, timeoutMs, `the load event of ${url}`);
    } finally {
      this.loads.delete(done);
    }
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const answer = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    const thrown = answer.exceptionDetails as { text: string; exception?: { description?: string } } | undefined;
    if (thrown) throw new Error(`in the page: ${thrown.exception?.description ?? thrown.text}`);
    return (answer.result as { value: T }).value;
  }

  /**
   * Waits until `expression` is truthy in the page, checking it again at each
   * change of the DOM (a MutationObserver: no guessed delay), for at most
   * `timeoutMs`; resolves with its value, or throws naming `what` and the last
   * value `describe` (an expression) gave.
   */
  async waitFor<T>(expression: string, timeoutMs: number, what: string, describe = "document.body.innerText.slice(0, 1500)"): Promise<T> {
    const script = `new Promise((resolve, reject) => {
      const check = () => { let v; try { v = (${expression}); } catch { v = undefined; } if (v) { done(); resolve(v); } };
      const observer = new MutationObserver(check);
      const timer = setTimeout(() => { done(); reject(new Error("timed out")); }, ${timeoutMs});
      const done = () => { observer.disconnect(); clearTimeout(timer); };
      observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      check();
    })`;
    try {
      return await this.evaluate<T>(script);
    } catch (error) {
      const seen = await this.evaluate<string>(describe).catch(() => "(the page could not say)");
      throw new Error(`waiting ${timeoutMs} ms for ${what}: ${(error as Error).message}; the page shows:\n${seen}`);
    }
  }

  /** A PNG of the whole page. */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
    return Buffer.from(data as string, "base64");
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
