// Files a guest left open on its home host are a way into that host: only
// for the guest that had them open, only those files with the rights they were
// opened with, only to host peers — and a host never contacts a "home" that a
// snapshot names unless it knows it as a member of its cluster.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { Host } from "../../src/cluster/host.js";
import { connect, type Peer } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { decodeSnapshot, encodeSnapshot, type GuestSnapshot } from "../../src/snapshot/snapshot.js";
import type { OpenFile } from "../../src/kernel/files.js";
import { checkpointOver } from "../e2e/cluster.js";
import { openFilesOf } from "../snapshot/open-files.js";
import { asVersion1 } from "../snapshot/version1.js";

const TOKEN = "s3cret-token";
const base = mkdtempSync(join(tmpdir(), "roam-home-"));
const elf = readFileSync(new URL("../../guests/bin/process/slowcat.elf", import.meta.url));
const content = Buffer.from("x".repeat(3000));
const secret = "the other file: nobody's guest opened it";
const logs: Record<string, string[]> = { A: [], B: [] };
let a: Host, b: Host;

beforeAll(async () => {
  [a, b] = ["A", "B"].map((name) => {
    const root = join(base, name);
    mkdirSync(root);
    return new Host({ name, host: "127.0.0.1", port: 0, root, token: TOKEN, log: (l) => logs[name].push(l) });
  });
  writeFileSync(join(base, "A", "x.txt"), content);
  writeFileSync(join(base, "A", "y.txt"), secret);
  await a.listen();
  await b.listen();
});
afterAll(async () => {
  await a.close();
  await b.close();
  rmSync(base, { recursive: true, force: true });
});

/** Runs slowcat on x.txt on A and checkpoints it once it has read a chunk: the snapshot holds x.txt open, home A. */
async function checkpointWithFileOpen(): Promise<{ snapshot: GuestSnapshot; file: OpenFile }> {
  const client = await connect(a.url, { role: "client", token: TOKEN });
  const firstOutput = new Promise<void>((resolve) => client.onMessage((m) => { if (m.t === "out") resolve(); }));
  const ran = await client.request({ t: "run", program: "slowcat", argv: ["slowcat", "x.txt", "100", "20"], elf, attach: true, root: "." });
  await firstOutput;
  const file_ = await checkpointOver(client, (ran.guest as { id: string }).id);
  client.close();
  const snapshot = decodeSnapshot(file_);
  const file = openFilesOf(snapshot.process!).map(([, f]) => f).find((f) => f.kind === "file");
  if (!file) throw new Error("the checkpoint holds no open file");
  return { snapshot, file };
}

/** Restores `snapshot` on `host` and waits for the guest to end; its exit code and stderr. */
async function restoreAndWait(host: Host, snapshot: GuestSnapshot, alsoWait?: Promise<unknown>): Promise<{ code: number; stderr: string; stdout: string }> {
  const client = await connect(host.url, { role: "client", token: TOKEN });
  let stderr = "", stdout = "";
  const exited = new Promise<number>((resolve) => client.onMessage((m) => {
    if (m.t === "out" && m.stream === 2) stderr += Buffer.from(m.data as Uint8Array).toString();
    if (m.t === "out" && m.stream === 1) stdout += Buffer.from(m.data as Uint8Array).toString();
    if (m.t === "exit") resolve(m.code as number);
  }));
  await client.request({ t: "restore", snapshot: encodeSnapshot(snapshot), attach: true });
  const code = await Promise.race([exited, alsoWait?.then(() => -1) ?? exited]);
  client.close();
  return { code, stderr, stdout };
}

test("a crafted snapshot whose file's home is any URL: the host never connects there (nor sends its token)", async () => {
  const fake = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => fake.once("listening", r));
  const received: string[] = [];
  const contacted = new Promise<void>((resolve) => fake.on("connection", (ws) => {
    received.push("connection");
    ws.on("message", (data) => { received.push(String(data)); resolve(); });
  }));
  try {
    const { snapshot, file } = await checkpointWithFileOpen();
    const url = `ws://127.0.0.1:${(fake.address() as { port: number }).port}`;
    file.home = url;
    // Restored on B, the guest's next read of x.txt would go to the fake "home".
    const { code, stderr } = await restoreAndWait(b, snapshot, contacted);
    expect(received, "the fake home saw a connection").toEqual([]);
    expect(code).toBe(1); // slowcat: x.txt: I/O error
    expect(stderr).toMatch(/I\/O error/);
    expect(logs.B.join("\n")).toContain(`is on ${url}, not a known host`);
  } finally {
    fake.close();
  }
}, 30_000);

test("a capability for file X reads X, and nothing else: not Y, not for another guest, not for writing", async () => {
  const { snapshot, file } = await checkpointWithFileOpen();
  const guest = snapshot.guest.id;
  expect(file.home).toBe(a.url);
  const peer = await connect(a.url, { role: "host", token: TOKEN });
  try {
    const read = (m: Record<string, unknown>) => peer.request({ t: "file-read", guest, cap: file.cap, path: "/x.txt", position: 0, length: 100, ...m });
    expect(Buffer.from((await read({})).data as Uint8Array).toString()).toBe("x".repeat(100));
    await expect(read({ path: "/y.txt" })).rejects.toThrow(/errno 9\b/);
    await expect(read({ path: "/../A/y.txt" })).rejects.toThrow(/errno 9\b/);
    await expect(read({ guest: "another-guest" })).rejects.toThrow(/errno 9\b/);
    await expect(read({ cap: "0".repeat(32) })).rejects.toThrow(/errno 9\b/);
    await expect(read({ cap: undefined })).rejects.toThrow(/errno 9\b/);
    // slowcat opened x.txt read-only.
    await expect(peer.request({ t: "file-write", guest, cap: file.cap, path: "/x.txt", position: 0, data: Buffer.from("owned") }))
      .rejects.toThrow(/errno 9\b/);
    expect(readFileSync(join(base, "A", "x.txt")).equals(content)).toBe(true);
  } finally {
    peer.close();
  }
}, 30_000);

test("a client-role peer is not served file requests, even with a good capability", async () => {
  const { snapshot, file } = await checkpointWithFileOpen();
  const client = await connect(a.url, { role: "client", token: TOKEN });
  try {
    await expect(client.request({ t: "file-read", guest: snapshot.guest.id, cap: file.cap, path: "/x.txt", position: 0, length: 10 }))
      .rejects.toThrow(/host peers only/);
    await expect(client.request({ t: "file-stat", guest: snapshot.guest.id, cap: file.cap, path: "/x.txt" })).rejects.toThrow(/host peers only/);
  } finally {
    client.close();
  }
}, 30_000);

test("a guest that moved with a file open reads it from home; when it exits there, the home drops the capability", async () => {
  const { snapshot, file } = await checkpointWithFileOpen();
  const before = a.homeFiles.count;
  expect(before).toBeGreaterThan(0);
  b.members.learn(a.url); // as `roam host --peer A` would
  const { code } = await restoreAndWait(b, snapshot);
  expect(code).toBe(0);
  // The exit tells the home; its answer is not awaited, so wait for the table to shrink.
  const deadline = Date.now() + 10_000;
  while (a.homeFiles.count === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(a.homeFiles.count).toBe(before - 1);
  const peer: Peer = await connect(a.url, { role: "host", token: TOKEN });
  await expect(peer.request({ t: "file-stat", guest: snapshot.guest.id, cap: file.cap, path: "/x.txt" })).rejects.toThrow(/errno 9\b/);
  peer.close();
}, 30_000);

test("a file of the base layer needs no home: the guest reads the rest where it lands, and its old host issues nothing", async () => {
  // /etc/hosts is in neither host's root: each shows the base layer's (src/kernel/base-layer.ts), the same everywhere.
  writeFileSync(join(base, "A", "gate"), "10"); // slowcat copies 10 bytes, then waits for the gate to open
  writeFileSync(join(base, "B", "gate"), "1000");
  const client = await connect(a.url, { role: "client", token: TOKEN });
  let first = "";
  const firstOutput = new Promise<void>((resolve) => client.onMessage((m) => {
    if (m.t === "out" && m.stream === 1) { first += Buffer.from(m.data as Uint8Array).toString(); resolve(); }
  }));
  const ran = await client.request({ t: "run", program: "slowcat", argv: ["slowcat", "/etc/hosts", "10", "5", "gate"], elf, attach: true, root: "." });
  await firstOutput;
  const before = a.homeFiles.count;
  const snapshot = decodeSnapshot(await checkpointOver(client, (ran.guest as { id: string }).id));
  client.close();
  const file = openFilesOf(snapshot.process!).map(([, f]) => f).find((f) => f.path === "/etc/hosts");
  expect(file).toMatchObject({ kind: "file", position: 10 });
  expect(file!.home).toBeUndefined();
  expect(a.homeFiles.count).toBe(before);
  const { code, stdout, stderr } = await restoreAndWait(b, snapshot);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(first + stdout).toBe(readFileSync(new URL("../../guests/base/etc/hosts", import.meta.url), "utf8"));
}, 30_000);

test("an open file of /proc needs no home either: read on where the guest lands, its text made there", async () => {
  writeFileSync(join(base, "A", "gate"), "10");
  writeFileSync(join(base, "B", "gate"), "1000");
  const client = await connect(a.url, { role: "client", token: TOKEN });
  let first = "";
  const firstOutput = new Promise<void>((resolve) => client.onMessage((m) => {
    if (m.t === "out" && m.stream === 1) { first += Buffer.from(m.data as Uint8Array).toString("latin1"); resolve(); }
  }));
  const argv = ["slowcat", "/proc/self/cmdline", "10", "5", "gate"];
  const ran = await client.request({ t: "run", program: "slowcat", argv, elf, attach: true, root: "." });
  await firstOutput;
  const snapshot = decodeSnapshot(await checkpointOver(client, (ran.guest as { id: string }).id));
  client.close();
  const file = openFilesOf(snapshot.process!).map(([, f]) => f).find((f) => f.kind === "proc");
  expect(file).toMatchObject({ position: 10, path: expect.stringMatching(/^\/proc\/\d+\/cmdline$/) });
  expect(file!.home).toBeUndefined();
  const { code, stdout, stderr } = await restoreAndWait(b, snapshot);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(first + stdout).toBe(argv.map((arg) => `${arg}\0`).join(""));
}, 30_000);

test("a file table of schema 1 (no capabilities) is still restored; a file left on its home fails with EBADF there", async () => {
  const { snapshot } = await checkpointWithFileOpen();
  // As the version before process trees wrote it (kernel state v1), with a file table of schema 1: no capabilities.
  const old = asVersion1(snapshot, 1);
  const files = (old.process as unknown as { files: { schemaVersion: number; files: Array<[number, Message]> } }).files;
  expect(files.schemaVersion).toBe(1);
  expect(files.files.some(([, f]) => f.kind === "file" && f.home !== undefined && f.cap === undefined), "x.txt left on its home, with no capability").toBe(true);
  b.members.learn(a.url);
  const { code, stderr } = await restoreAndWait(b, old);
  expect(code).toBe(1);
  expect(stderr).toMatch(/Bad file/); // EBADF from the home: no capability presented
}, 30_000);

test("a host learns a member from an accepted host hello only: not from a client's, not from a wrong token's", async () => {
  const [asClient, asStranger, asHost] = ["ws://127.0.0.1:1", "ws://127.0.0.1:2", "ws://127.0.0.1:3"];
  const client = await connect(b.url, { role: "client", token: TOKEN, url: asClient });
  await expect(connect(b.url, { role: "host", token: "wrong", url: asStranger })).rejects.toThrow(/bad token/);
  const host = await connect(b.url, { role: "host", token: TOKEN, url: asHost });
  expect([asClient, asStranger, asHost].map((u) => b.members.knows(u))).toEqual([false, false, true]);
  expect(b.members.knows(`${asHost}/`)).toBe(true); // one host, two spellings
  client.close();
  host.close();
});

test("a guest killed where it moved to ends its capabilities on the home", async () => {
  const { snapshot, file } = await checkpointWithFileOpen();
  b.members.learn(a.url);
  const client = await connect(b.url, { role: "client", token: TOKEN });
  const exited = new Promise<void>((resolve) => client.onMessage((m) => { if (m.t === "exit") resolve(); }));
  await client.request({ t: "restore", snapshot: encodeSnapshot(snapshot), attach: true });
  const home = await connect(a.url, { role: "host", token: TOKEN });
  const stat = () => home.request({ t: "file-stat", guest: snapshot.guest.id, cap: file.cap, path: "/x.txt" });
  expect(((await stat()).stat as { size: number }).size).toBe(content.length);
  await client.request({ t: "kill", guest: snapshot.guest.id });
  await exited;
  // The release is sent without waiting for its answer: poll the home until the capability is refused.
  const deadline = Date.now() + 10_000;
  let refused = "";
  while (!refused && Date.now() < deadline) refused = await stat().then(() => "", (e: Error) => e.message);
  expect(refused).toMatch(/errno 9\b/);
  home.close();
  client.close();
}, 30_000);
