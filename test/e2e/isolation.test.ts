// Isolation between guests: each guest's files live in a root of its own
// (guests/<id> under the host's --root) unless its run request names one to
// share; the root travels with the guest (GuestInfo.root), so a moved guest
// writes into the same place at its destination, and the files it left open
// at home are still read from its own root there. Two hosts in this process.
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { connect, type Peer } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { decodeSnapshot, encodeSnapshot } from "../../src/snapshot/snapshot.js";
import { checkpointOver, elfPath, openGate, roam, waitUntil } from "./cluster.js";

const base = mkdtempSync(join(tmpdir(), "roam-isolation-"));
const roots = { A: join(base, "A"), B: join(base, "B") };
const elf = (name: string) => readFileSync(new URL(`../../guests/bin/process/${name}.elf`, import.meta.url));
const EFAULT_TXT = "0123456789abcdefghijklmnopqrstuvwxyz"; // what `crash efault` writes into efault.txt
let a: Host, b: Host;
const clients: Peer[] = [];

beforeAll(async () => {
  mkdirSync(roots.A);
  mkdirSync(roots.B);
  [a, b] = (["A", "B"] as const).map((name) => new Host({ name, host: "127.0.0.1", port: 0, root: roots[name] }));
  await a.listen();
  await b.listen();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await a.close();
  await b.close();
  rmSync(base, { recursive: true, force: true });
});

async function client(host: Host): Promise<Peer> {
  const peer = await connect(host.url, { role: "client" });
  clients.push(peer);
  return peer;
}

interface Ran { id: string; root: string; output: () => string; exited: Promise<number>; peer: Peer }

/** Starts a guest attached, on a connection of its own; its output (stdout and stderr together) and its exit code as they come. */
async function start(host: Host, program: string, argv: string[], root?: string): Promise<Ran> {
  const peer = await client(host);
  let output = "";
  let id = "";
  let done!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (done = resolve));
  peer.onMessage((m: Message) => { // one connection per guest: every out and exit on it is this guest's
    if (m.t === "out") output += Buffer.from(m.data as Uint8Array).toString();
    if (m.t === "exit") done(m.code as number);
  });
  const ran = await peer.request({ t: "run", program, argv: [program, ...argv], elf: elf(program), attach: true, ...(root === undefined ? {} : { root }) });
  const guest = ran.guest as { id: string; root: string };
  id = guest.id;
  return { id, root: guest.root, output: () => output, exited, peer };
}

/**
 * `crash efault` waits for a line of input, then creates efault.txt in its
 * working directory, writes EFAULT_TXT into it and removes it again. To see
 * where it wrote, a test links efault.txt to witness.txt in the directory it
 * expects first (O_TRUNC and the write reach the same inode), then lets it go.
 */
function startEfault(host: Host, root?: string): Promise<Ran> {
  return start(host, "crash", ["efault"], root);
}

function witness(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "efault.txt"), "");
  linkSync(join(dir, "efault.txt"), join(dir, "witness.txt"));
  return join(dir, "witness.txt");
}

async function letGo(guest: Ran, peer = guest.peer): Promise<void> {
  await peer.request({ t: "input", guest: guest.id, offset: 0, data: Buffer.from("go\n"), end: true });
  await guest.exited;
}

async function cat(host: Host, file: string, root?: string): Promise<{ code: number; output: string }> {
  const guest = await start(host, "cat", [file], root);
  const code = await guest.exited;
  return { code, output: guest.output() };
}

describe("guests run without a root", () => {
  test("each gets guests/<id> of its own, and cannot see another's files", async () => {
    writeFileSync(join(roots.A, "efault.txt"), "the host's own");
    const [one, two] = [await startEfault(a), await startEfault(a)];
    expect(one.root).toBe(`guests/${one.id}`);
    const seen = witness(join(roots.A, one.root));
    await letGo(one);
    await letGo(two);
    expect(one.output() + two.output()).not.toMatch(/not ok/);
    expect(readFileSync(seen, "utf8")).toBe(EFAULT_TXT);
    expect(readdirSync(join(roots.A, two.root)).sort()).toEqual(["etc", "tmp"]); // two wrote (and removed) its efault.txt in its own root, which came with /etc and /tmp
    expect(readFileSync(join(roots.A, "efault.txt"), "utf8")).toBe("the host's own");
    for (const path of ["witness.txt", `/guests/${one.id}/witness.txt`, `../${one.id}/witness.txt`, `../../guests/${one.id}/witness.txt`, "../../efault.txt"]) {
      const other = await cat(a, path);
      expect(other.code, `cat ${path}: ${other.output}`).toBe(1);
      expect(other.output).toMatch(/No such file or directory/);
    }
    // Nor can a client name another guest's own root to get in: only roots outside guests/ are shared.
    await expect(cat(a, "witness.txt", one.root)).rejects.toThrow(/within guests\/, where each guest has its own/);
  });

  test("ps lists each guest's root", async () => {
    const guest = await startEfault(b);
    const listed = (await guest.peer.request({ t: "ps" })).guests as Array<{ id: string; root: string }>;
    expect(listed.find((g) => g.id === guest.id)?.root).toBe(`guests/${guest.id}`);
    await guest.peer.request({ t: "kill", guest: guest.id });
  });
});

describe("guests that name a root", () => {
  test("two naming the same root share its files; one without a root does not see them", async () => {
    const writer = await startEfault(a, "team/shared/");
    expect(writer.root).toBe("team/shared");
    const seen = witness(join(roots.A, "team/shared"));
    await letGo(writer);
    expect(readFileSync(seen, "utf8")).toBe(EFAULT_TXT);
    expect(await cat(a, "witness.txt", "team//shared")).toEqual({ code: 0, output: EFAULT_TXT });
    expect((await cat(a, "witness.txt")).code).toBe(1);
  });

  test('"." is the host\'s root itself', async () => {
    writeFileSync(join(roots.A, "top.txt"), "at the top\n");
    expect(await cat(a, "top.txt", ".")).toEqual({ code: 0, output: "at the top\n" });
    expect((await cat(a, "top.txt")).code).toBe(1);
  });

  test("a root outside the host's root is refused, in one line; the host runs on", async () => {
    const outside = mkdtempSync(join(tmpdir(), "roam-isolation-outside-"));
    symlinkSync(outside, join(roots.A, "out"));
    try {
      const peer = await client(a);
      const run = (root: string) => peer.request({ t: "run", program: "cat", argv: ["cat"], elf: elf("cat"), root });
      await expect(run("../B")).rejects.toThrow(/^run: root \.\.\/B leads outside the host's root$/);
      await expect(run("x/../../B")).rejects.toThrow(/leads outside the host's root/);
      await expect(run(roots.B)).rejects.toThrow(/is absolute; name a directory within the host's root/);
      await expect(run("guests/gsomeoneelse")).rejects.toThrow(/^run: root guests\/gsomeoneelse is within guests\/, where each guest has its own/);
      await expect(run("out/sub")).rejects.toThrow(/^run: root out\/sub: out is a symlink to outside the host's root$/);
      await expect(run("")).rejects.toThrow(/root is empty/);
      expect(existsSync(join(outside, "sub"))).toBe(false);
      expect(await cat(a, "top.txt", ".")).toEqual({ code: 0, output: "at the top\n" });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe("a guest's root travels with it", () => {
  test("moved to B, it reads its open file from its own root at home and its new files from its root at B", async () => {
    // A decoy where the host's root, not the guest's, would lead.
    writeFileSync(join(roots.A, "data.txt"), "decoy ".repeat(100));
    mkdirSync(join(roots.A, "mine"));
    const content = Array.from({ length: 600 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join("");
    writeFileSync(join(roots.A, "mine", "data.txt"), content);
    openGate(join(roots.A, "mine"), "data.gate", 200);
    const guest = await start(a, "slowcat", ["data.txt", "100", "5", "data.gate"], "mine");
    await waitUntil(() => guest.output().length === 200, 20_000, () => `200 bytes of output, got ${guest.output().length}`);
    const moved = new Promise<void>((resolve) => guest.peer.onMessage((m) => { if (m.t === "moved") resolve(); }));
    await guest.peer.request({ t: "migrate", guest: guest.id, to: b.url, strategy: "precopy" });
    await moved;
    // At B the gate is opened in B's mine/ (made on arrival); the file goes on from A's mine/data.txt.
    expect(existsSync(join(roots.B, "mine"))).toBe(true);
    const atB = await client(b);
    let rest = "";
    const exited = new Promise<number>((resolve) => atB.onMessage((m) => {
      if (m.t === "out" && m.guest === guest.id) rest += Buffer.from(m.data as Uint8Array).toString();
      if (m.t === "exit" && m.guest === guest.id) resolve(m.code as number);
    }));
    await atB.request({ t: "attach", guest: guest.id, from: 200 });
    openGate(join(roots.B, "mine"), "data.gate", 100_000);
    expect(await exited).toBe(0);
    expect(guest.output().slice(0, 200) + rest).toBe(content);
  });

  test("one with its own root writes into guests/<id> at its destination", async () => {
    const guest = await startEfault(a);
    await guest.peer.request({ t: "migrate", guest: guest.id, to: b.url, strategy: "stop-copy" });
    expect(existsSync(join(roots.B, guest.root))).toBe(true); // made on arrival
    const seen = witness(join(roots.B, guest.root));
    const atB = await client(b);
    const exited = new Promise<void>((resolve) => atB.onMessage((m) => { if (m.t === "exit" && m.guest === guest.id) resolve(); }));
    await atB.request({ t: "attach", guest: guest.id });
    await atB.request({ t: "input", guest: guest.id, offset: 0, data: Buffer.from("go\n"), end: true });
    await exited;
    expect(readFileSync(seen, "utf8")).toBe(EFAULT_TXT);
    const listed = (await atB.request({ t: "ps" })).guests as Array<{ id: string; root: string }>;
    expect(listed.find((g) => g.id === guest.id)?.root).toBe(`guests/${guest.id}`);
  });

  test('a snapshot from before isolation (no guest.root) is restored with "."', async () => {
    const guest = await startEfault(a);
    const file = await checkpointOver(guest.peer, guest.id);
    const snapshot = decodeSnapshot(file);
    delete (snapshot.guest as { root?: string }).root;
    const old = encodeSnapshot(snapshot);
    expect(decodeSnapshot(old).guest.root).toBe(".");
    const atB = await client(b);
    const exited = new Promise<void>((resolve) => atB.onMessage((m) => { if (m.t === "exit" && m.guest === guest.id) resolve(); }));
    const restored = await atB.request({ t: "restore", snapshot: old, attach: true });
    expect((restored.guest as { root: string }).root).toBe(".");
    const seen = witness(roots.B);
    await atB.request({ t: "input", guest: guest.id, offset: 0, data: Buffer.from("go\n"), end: true });
    await exited;
    expect(readFileSync(seen, "utf8")).toBe(EFAULT_TXT);
  });
});

describe("the CLI", () => {
  test("roam run --on URL --root DIR runs in DIR within the host's root; ps shows each guest's root", async () => {
    mkdirSync(join(roots.A, "cli/box"), { recursive: true });
    writeFileSync(join(roots.A, "cli/box/note.txt"), "in the box\n");
    const inBox = await roam(["run", "--on", a.url, "--root", "cli/box", elfPath("cat"), "note.txt"]);
    expect(inBox.code, inBox.describe()).toBe(0);
    expect(inBox.stdout).toBe("in the box\n");
    const own = await roam(["run", "--on", a.url, elfPath("cat"), "note.txt"]);
    expect(own.code, own.describe()).toBe(1);
    const refused = await roam(["run", "--on", a.url, "--root", "../B", elfPath("cat"), "note.txt"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim().split("\n")).toEqual([expect.stringMatching(/run: root \.\.\/B leads outside the host's root/)]);
    const ps = await roam(["ps", "--on", a.url]);
    expect(ps.stdout).toMatch(/^GUEST +KIND +STATUS +INSTRUCTIONS +ROOT +PROGRAM$/m);
    expect(ps.stdout).toMatch(/ cli\/box +.*cat\.elf note\.txt$/m);
    const listed = JSON.parse((await roam(["ps", "--on", a.url, "--json"])).stdout) as Array<{ id: string; root: string; argv: string[] }>;
    expect(listed.filter((g) => g.root === "cli/box").length).toBe(1);
    expect(listed.filter((g) => g.root === `guests/${g.id}` && g.argv[1] === "note.txt").length).toBe(1);
  });
});
