// Hosts as a user deploys them: `roam host --tls-cert --tls-key --tls-ca`
// listens on wss://; clients verify its certificate against the CA they are
// given (or refuse it on one line); hosts present their own certificates to
// each other, and a host with a CA refuses a host link that presents none.
// Tokens are compared in constant time; a host open to the network without
// TLS and a token says so when it starts. The certificates are made here,
// with openssl, in a throwaway directory.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Host } from "../../src/cluster/host.js";
import { connect } from "../../src/net/peer.js";
import type { Message } from "../../src/net/protocol.js";
import { clientTlsOptions, tokensEqual, type TlsIdentity } from "../../src/net/tls.js";
import { elfPath, followGuest, Proc, roam, stopAll, tempDir, waitUntil } from "./cluster.js";

const dir = tempDir("tls");
const pem = (name: string) => join(dir.path, name);
const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir.path, stdio: ["ignore", "pipe", "pipe"] });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A CA: NAME-ca.pem and NAME-ca.key. */
function makeCa(name: string): void {
  openssl(["req", "-x509", ...EC, "-keyout", `${name}-ca.key`, "-out", `${name}-ca.pem`, "-days", "2", "-subj", `/CN=${name} test CA`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
}

/** A certificate for 127.0.0.1 signed by CA `ca` (server and client use): NAME.pem and NAME.key. */
function makeCert(name: string, ca: string): void {
  writeFileSync(pem(`${name}.ext`), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n");
  openssl(["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
  openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}-ca.pem`, "-CAkey", `${ca}-ca.key`, "-CAcreateserial",
    "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
}

/** A certificate that signs itself (no CA anyone was given). */
function makeSelfSigned(name: string): void {
  openssl(["req", "-x509", ...EC, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`,
    "-addext", "subjectAltName=IP:127.0.0.1"]);
}

const identity = (name: string | undefined, ca: string | undefined): TlsIdentity => ({
  cert: name ? readFileSync(pem(`${name}.pem`)) : undefined,
  key: name ? readFileSync(pem(`${name}.key`)) : undefined,
  ca: ca ? readFileSync(pem(`${ca}-ca.pem`)) : undefined,
});

beforeAll(() => {
  makeCa("roam");
  makeCa("rogue");
  for (const name of ["hostA", "hostB", "hostC"]) makeCert(name, "roam");
  makeCert("intruder", "rogue");
  makeSelfSigned("lonely");
});

const inProcess: Host[] = [];
let processes: Proc[] = [];
afterAll(async () => {
  await Promise.all(inProcess.map((h) => h.close()));
  for (const p of processes) p.kill("SIGTERM");
  await Promise.all(processes.map((p) => p.wait(5000).catch(() => {})));
  await stopAll();
  dir.remove();
});

async function startHost(name: string, options: Partial<ConstructorParameters<typeof Host>[0]> = {}): Promise<Host> {
  const root = join(dir.path, `root-${name}`);
  mkdirSync(root, { recursive: true });
  const host = new Host({ name, host: "127.0.0.1", port: 0, root, ...options });
  inProcess.push(host);
  await host.listen();
  return host;
}

/** `roam host` with TLS, as a process; resolves with its wss:// URL once it listens. */
async function hostProcess(name: string, cert: string): Promise<{ proc: Proc; url: string }> {
  const root = join(dir.path, `root-${name}`);
  mkdirSync(root, { recursive: true });
  const proc = new Proc(["host", "--listen", "127.0.0.1:0", "--name", name, "--root", root, "--force",
    "--tls-cert", pem(`${cert}.pem`), "--tls-key", pem(`${cert}.key`), "--tls-ca", pem("roam-ca.pem")]);
  processes.push(proc);
  const listening = /host \S+ listening on (wss:\/\/127\.0\.0\.1:\d+)/;
  await waitUntil(() => listening.test(proc.err) || proc.exited !== undefined, 20_000, () => `host ${name} to listen (${proc.describe()})`);
  const match = listening.exec(proc.err);
  if (!match) throw new Error(`host ${name} did not start: ${proc.describe()}`);
  return { proc, url: match[1] };
}

describe("tokens", () => {
  test("are compared by digest: equal, unequal, of another length, or missing", () => {
    expect(tokensEqual("s3cret", "s3cret")).toBe(true);
    expect(tokensEqual("s3crex", "s3cret")).toBe(false);
    expect(tokensEqual("s3cret-and-more", "s3cret")).toBe(false);
    expect(tokensEqual("s3c", "s3cret")).toBe(false);
    expect(tokensEqual("", "s3cret")).toBe(false);
    expect(tokensEqual(undefined, "s3cret")).toBe(false);
    expect(tokensEqual(42, "42")).toBe(false);
  });

  test("a wrong token is refused over wss, the right one let in", async () => {
    const host = await startHost("T", { token: "s3cret", tls: identity("hostA", "roam") });
    expect(host.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const client = { ca: readFileSync(pem("roam-ca.pem")) };
    for (const token of [undefined, "s3crex", "s3cret-and-more"]) {
      await expect(connect(host.url, { role: "client", token, tls: client })).rejects.toThrow(/^bad token$/);
    }
    const peer = await connect(host.url, { role: "client", token: "s3cret", tls: client });
    expect((await peer.request({ t: "ps" })).guests).toEqual([]);
    peer.close();
  });
});

describe("a host that listens with TLS", () => {
  test("is reached by a client given its CA (--tls-ca or ROAM_TLS_CA), which runs a guest there", async () => {
    const { url } = await hostProcess("P", "hostA");
    const ran = await roam(["run", "--on", url, "--tls-ca", pem("roam-ca.pem"), elfPath("hello"), "one", "two"]);
    expect(ran.code, ran.describe()).toBe(0);
    expect(ran.stdout).toContain("one");
    const listed = await roam(["ps", "--on", url, "--json"], { env: { ROAM_TLS_CA: pem("roam-ca.pem") } });
    expect(listed.code, listed.describe()).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
  }, 60_000);

  test("is reached by a client whose NODE_EXTRA_CA_CERTS holds its CA: as the `roam` command (Node started without it) and as node bin/roam.js", async () => {
    const { url } = await hostProcess("E", "hostA");
    const env = { NODE_EXTRA_CA_CERTS: pem("roam-ca.pem"), ROAM_TLS_CA: undefined };
    for (const command of [true, false]) {
      const listed = await roam(["ps", "--on", url, "--json"], { command, env });
      expect(listed.code, listed.describe()).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([]);
    }
    // In process: the file is read and its context made once, and a connection with no CA given verifies through it.
    const saved = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = pem("roam-ca.pem");
    try {
      const first = clientTlsOptions(url, "client", undefined, undefined);
      expect(first.secureContext).toBeDefined();
      expect(clientTlsOptions(url, "client", undefined, undefined).secureContext).toBe(first.secureContext);
      expect(clientTlsOptions(url.replace("wss:", "ws:"), "client", undefined, undefined)).toEqual({});
      const peer = await connect(url, { role: "client" });
      expect((await peer.request({ t: "ps" })).guests).toEqual([]);
      peer.close();
    } finally {
      if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS; else process.env.NODE_EXTRA_CA_CERTS = saved;
    }
    // The default CAs are still there with the file's added: another CA's file does not let the host in.
    const other = await roam(["ps", "--on", url], { command: true, env: { ...env, NODE_EXTRA_CA_CERTS: pem("rogue-ca.pem") } });
    expect(other.code, other.describe()).toBe(1);
    expect(other.stderr).toMatch(/certificate/);
  }, 60_000);

  test("is refused on one line naming the URL and the reason by a client without the CA, or with another", async () => {
    const { url } = await hostProcess("Q", "hostB");
    for (const extra of [[], ["--tls-ca", pem("rogue-ca.pem")]]) {
      const r = await roam(["ps", "--on", url, ...extra]);
      expect(r.code, r.describe()).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^roam: [^\n]*wss:\/\/127\.0\.0\.1:\d+[^\n]*certificate[^\n]*\n$/);
      expect(r.stderr).toContain(url);
      console.log(`[e2e tls] without the CA (${extra.length ? "another CA" : "none"}): ${r.stderr.trim()}`);
    }
    // A self-signed certificate nobody vouches for: the same, in process.
    const lonely = await startHost("S", { tls: identity("lonely", undefined) });
    const refusal = await connect(lonely.url, { role: "client" }).then(() => "connected", (e: Error) => e.message);
    expect(refusal).toMatch(new RegExp(`^cannot verify ${lonely.url.replace(/[/.]/g, "\\$&")}: .*self-signed certificate.*--tls-ca`));
    expect(refusal).not.toContain("\n");
  }, 60_000);

  test("with --tls-ca refuses a host link without a client certificate, or with one from another CA; clients may come without", async () => {
    const host = await startHost("R", { tls: identity("hostA", "roam") });
    const ca = readFileSync(pem("roam-ca.pem"));
    const refused = await connect(host.url, { role: "host", name: "anon", tls: { ca } }).then(() => "connected", (e: Error) => e.message);
    expect(refused).toMatch(/^host links must present a certificate signed by R's CA/);
    const rogue = await connect(host.url, { role: "host", name: "intruder", tls: { ...identity("intruder", undefined), ca } }).then(() => "connected", (e: Error) => e.message);
    expect(rogue).toMatch(/^host links must present a certificate signed by R's CA/);
    console.log(`[e2e tls] host link refused: ${refused}; ${rogue}`);
    const asHost = await connect(host.url, { role: "host", name: "C", tls: identity("hostC", "roam") });
    asHost.close();
    const asClient = await connect(host.url, { role: "client", tls: { ca } });
    expect((await asClient.request({ t: "ps" })).guests).toEqual([]);
    asClient.close();
  });
});

describe("roam host given TLS files it cannot use", () => {
  test("refuses to start, on one line naming the file", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--tls-cert", pem("missing.pem"), "--tls-key", pem("hostA.key")], /--tls-cert \S*missing\.pem: no such file/],
      [["--tls-cert", pem("hostA.pem")], /--tls-cert and --tls-key go together/],
      [["--tls-cert", pem("hostA.pem"), "--tls-key", pem("hostB.key")], /--tls-cert \S*hostA\.pem with --tls-key \S*hostB\.key: .*key values mismatch/],
      [["--tls-cert", pem("hostA.pem"), "--tls-key", pem("hostA.ext")], /--tls-key \S*hostA\.ext: not a PEM file/],
    ];
    for (const [flags, reason] of cases) {
      const r = await roam(["host", "--listen", "127.0.0.1:0", "--root", dir.path, ...flags]);
      expect(r.code, r.describe()).not.toBe(0);
      expect(r.stderr).toMatch(/^roam: [^\n]*\n$/);
      expect(r.stderr).toMatch(reason);
    }
  }, 60_000);
});

describe("hosts with certificates from one CA", () => {
  test("a guest migrates between them and reads on from the file it left open at home (both links present certificates)", async () => {
    const [a, b] = [await startHost("A", { tls: identity("hostA", "roam") }), await startHost("B", { tls: identity("hostB", "roam") })];
    const content = Buffer.from(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(""));
    writeFileSync(join(dir.path, "root-A", "data.txt"), content);
    const tls = { ca: readFileSync(pem("roam-ca.pem")) };
    const client = await connect(a.url, { role: "client", tls });
    const ran = await client.request({ t: "run", program: "slowcat", argv: ["slowcat", "data.txt", "100", "15"], elf: readFileSync(elfPath("slowcat")), root: "." });
    const id = (ran.guest as { id: string }).id;
    const watch = await followGuest(a.url, id, { tls });
    await waitUntil(() => watch.offset >= 300, 20_000, "slowcat's first reads");
    const reply = await client.request({ t: "migrate", guest: id, to: b.url, strategy: "postcopy" });
    expect((reply.stats as { status: string }).status).toBe("completed");
    const end = await watch.exited;
    expect(end.code).toBe(0);
    expect(watch.output().equals(content)).toBe(true);
    client.close();
  }, 60_000);

  test("as processes: an attached run follows its guest from wss://A to wss://B", async () => {
    const [a, b] = await Promise.all([hostProcess("PA", "hostA"), hostProcess("PB", "hostB")]);
    const ca = ["--tls-ca", pem("roam-ca.pem")];
    const run = new Proc(["run", "--on", a.url, ...ca, elfPath("echo-lines")]);
    processes.push(run);
    await waitUntil(() => /roam: guest (\S+) on/.test(run.err) || run.exited !== undefined, 20_000, () => `the guest id (${run.describe()})`);
    const id = /roam: guest (\S+) on/.exec(run.err)![1];
    run.write("before\n");
    await waitUntil(() => run.text.includes("before"), 20_000, () => `the first echo (${run.describe()})`);
    const moved = await roam(["migrate", id, "--on", a.url, "--to", b.url, ...ca, "--json"]);
    expect(moved.code, moved.describe()).toBe(0);
    expect(JSON.parse(moved.stdout).status).toBe("completed");
    await waitUntil(() => run.err.includes(`moved to ${b.url}`), 20_000, () => `the run to follow (${run.describe()})`);
    run.write("after\n");
    run.endInput();
    const exited = await run.wait(30_000);
    expect(exited.code, run.describe()).toBe(0);
    expect(run.text).toContain("before");
    expect(run.text).toContain("after");
  }, 60_000);
});

describe("a host open to the network", () => {
  test("without TLS and a token warns once at start; on loopback it does not", async () => {
    const lines: string[] = [];
    const open = new Host({ name: "W", host: "0.0.0.0", port: 0, root: dir.path, log: (line) => lines.push(line) });
    await open.listen();
    await open.close(); // bound for a moment only: nothing outside reaches it
    const port = new URL(open.url).port;
    const warnings = lines.filter((l) => l.includes("without"));
    expect(warnings).toEqual([`roam host: listening on 0.0.0.0:${port} without TLS and a token: anyone who can reach it can run code and read the sandbox`]);

    const quiet: string[] = [];
    const local = await startHost("L", { log: (line) => quiet.push(line) });
    expect(quiet.filter((l) => l.includes("without"))).toEqual([]);
    expect(local.url).toMatch(/^ws:\/\//);
  });
});

