// A guest that is a tree of processes migrates as one (--children together):
// BusyBox's shell runs a pipeline `seq | gate | sort | md5sum` on host A, and
// while the gate holds the pipeline (seq blocked writing a full pipe, the
// shell blocked in waitid, md5sum blocked reading) `roam migrate` moves it
// A -> B -> C -> A with each strategy. Opening the gate lets it finish where
// it is: the digest must be the one of an unmigrated run. `--children
// disallow` refuses the same move, naming the children.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { migrate, Proc, ps, roam, startHosts, stopAll, tempDir, waitUntil, type HostProc, REPO } from "./cluster.js";

const BUSYBOX = join(REPO, "guests/bin/real/busybox.elf");
const COUNT = 100_000;
const GATE = "release";
// The gate is a subshell that waits for a file, then passes its input on.
const PIPELINE = `seq 1 ${COUNT} | (while [ ! -e ${GATE} ]; do sleep 1; done; sort -n) | md5sum`;
const numbersText = () => Array.from({ length: COUNT }, (_, i) => `${i + 1}\n`).join("");
const expectedDigest = () => `${createHash("md5").update(numbersText()).digest("hex")}  -\n`;

const GATE2 = "release2";
const LOCAL_STARTED = "l-started";
// A shell with three children at home (a and b wait for gates, c sleeps) waits for a; it moves alone to B (it is the
// guest's first process). There it reaps a (whose CPU time, spent at home, counts in the shell's children's times, as
// `times` shows), signals its own process group (the children ignore SIGUSR1; the shell's trap must run once, not once
// more when the signal comes back from its proxy at home), forks children of its own (a foreground one, and one in
// the background while b is still running at home), kills c at home, and its exit status is the guest's. b, at home,
// signals the whole group: the shell's child on B is in it, and dies of it as it would at home.
const FAMILY_SCRIPT = [
  `rm -f ${LOCAL_STARTED}`,
  "trap '' USR1 USR2",
  `(while [ ! -e ${GATE} ]; do sleep 1; done; echo a-out; i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done; exit 3) & a=$!`,
  `(while [ ! -e ${GATE2} ] || [ ! -e ${LOCAL_STARTED} ]; do sleep 1; done; kill -USR2 0; exit 5) & b=$!`,
  "sleep 100 & c=$!",
  "trap 'echo usr1' USR1",
  "trap 'got2=yes' USR2",
  'wait $a; echo "a=$?"',
  'times > times.txt; { read own; read children; } < times.txt; [ "${children%% *}" != 0m0.000s ]; echo "children-cpu=$?"',
  'kill -USR1 0; echo "group=$?"',
  `sleep 30 & l=$!; : > ${LOCAL_STARTED}`,
  'sleep 0; echo "fg=$?"',
  // The trapped USR2 may end a wait early (status > 128): wait again.
  'while :; do wait $b; s=$?; [ $s -lt 128 ] && break; done; echo "b=$s"',
  'wait $l; echo "local=$? usr2=$got2"',
  'kill $c; wait $c; echo "c=$?"',
  "exit 4",
].join("\n");
const FAMILY_OUTPUT = "a-out\na=3\nchildren-cpu=0\nusr1\ngroup=0\nfg=0\nb=5\nlocal=140 usr2=yes\nc=143\n";
const HOMEWAIT_OUTPUT = [
  "child 7: parent unchanged",
  "waitid(P_PID d, WNOWAIT): 0, pid d, status 7",
  "waitpid(d, WNOHANG): d, exited 7",
  "waitpid(a, WNOHANG) before a ends: 0",
  "child 3: parent unchanged",
  "waitpid(a): a, exited 3",
  "child 5: parent unchanged",
  "waitpid(-pgid of b): b, exited 5",
  "waitid(P_PID c): 0, pid c, code CLD_KILLED, status 15",
  "waitid(P_ALL): 0, pid the local child, code CLD_EXITED, status 9",
  "wait(): -1, ECHILD",
  "select(stdin, 0.3 s) with no input: 0",
  "select(stdin, 30 s) once input came: 1, ready 1; read 6: hello",
  "",
].join("\n");
// The reader (the pipeline's second stage) moves alone; its reads poll the pipe first (`read -t`).
const POLL_SCRIPT = `(while [ ! -e ${GATE2} ]; do sleep 1; done; echo hello) | (while [ ! -e ${GATE} ]; do sleep 1; done; read -t 1 x; echo "first=$? [$x]"; read -t 20 x; echo "second=$? [$x]")`;
// The reader moves alone; then cat (forked on B) reads the pipe through A, which dies. Files opened on B are B's.
const BROKEN_SCRIPT = `sleep 1000 | (while [ ! -e ${GATE} ]; do sleep 1; done; cat; echo "cat=$?" > after.txt; cat; echo "again=$?" >> after.txt)`;
// cat (the second stage) moves alone, then its host dies: at home it must end as killed, so its writer gets EPIPE and
// the shell's wait for the pipeline returns.
const LOST_SCRIPT = `(while :; do echo tick; sleep 1; done) | cat; echo "pipeline=$?"`;

/** `roam run --on URL busybox sh -c SCRIPT`, attached; resolves with the guest id. */
async function runScript(on: string, script: string): Promise<{ proc: Proc; id: string }> {
  const proc = new Proc(["run", "--on", on, "--root", ".", BUSYBOX, "sh", "-c", script]);
  const started = /roam: guest (\S+) on (\S+)/;
  await waitUntil(() => started.test(proc.err) || proc.exited !== undefined, 20_000, () => `the guest id from ${proc.describe()}`);
  const match = started.exec(proc.err);
  if (!match) throw new Error(`roam run did not start the guest: ${proc.describe()}`);
  return { proc, id: match[1] };
}

/** Waits until guest `id` on `url` has a waiting process called `name`. */
async function waitForProcess(url: string, id: string, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const entry = (await ps(url)).find((g) => g.id === id) as unknown as { processes?: ProcessRow[] } | undefined;
    if (entry?.processes?.some((r) => r.name === name && r.state === "waiting")) return;
    if (Date.now() > deadline) throw new Error(`no waiting ${name} in guest ${id} on ${url}: ${JSON.stringify(entry)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until guest `id` on `url` has status `status`; its ps entry. */
async function waitForStatus(url: string, id: string, status: string): Promise<{ status: string; exitCode?: number }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const entry = (await ps(url)).find((g) => g.id === id);
    if (entry?.status === status) return entry;
    if (Date.now() > deadline) throw new Error(`guest ${id} on ${url} is not ${status}: ${JSON.stringify(entry)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface ProcessRow { pid: number; ppid: number; state: string; name: string }

let hosts: HostProc[] = [];
let root: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await stopAll(hosts);
  hosts = [];
  root?.remove();
});

async function startPipeline(on: string): Promise<{ client: Proc; id: string }> {
  const client = new Proc(["run", "--on", on, "--root", ".", BUSYBOX, "sh", "-c", PIPELINE]);
  const started = /roam: guest (\S+) on (\S+)/;
  await waitUntil(() => started.test(client.err) || client.exited !== undefined, 20_000, () => `the guest id from ${client.describe()}`);
  const match = started.exec(client.err);
  if (!match) throw new Error(`roam run did not start the guest: ${client.describe()}`);
  return { client, id: match[1] };
}

describe("a process tree migrates as one guest", () => {
  // One tree, four moves, each by another strategy (a run per strategy took ~2 of CI's 25 minutes; what each strategy
  // does to a plain guest is in migrate-strategies.test.ts).
  test("a gated pipeline moves A -> B -> C -> A -> B by stop-copy, precopy, postcopy and hybrid with its pipes, waits and blocked reads, and finishes as unmoved", async () => {
    root = tempDir("tree");
    hosts = await startHosts(["A", "B", "C"], root.path);
    const [a, b, c] = hosts;
    const { client, id } = await startPipeline(a.url);
    const route = [a, b, c, a, b];
    const strategies = ["stop-copy", "precopy", "postcopy", "hybrid"];
    for (let i = 0; i + 1 < route.length; i++) {
      const [from, to] = [route[i], route[i + 1]];
      const rows = await treeOf(from.url, id);
      expect(rows.filter((r) => r.state !== "zombie").length, JSON.stringify(rows)).toBeGreaterThanOrEqual(4);
      const { result, stats } = await migrate(id, from.url, to.url, strategies[i]);
      expect(result.code, `move ${i + 1} ${from.name} -> ${to.name} by ${strategies[i]}: ${result.describe()}`).toBe(0);
      expect(stats!.status).toBe("completed");
    }
    const arrived = await treeOf(b.url, id);
    expect(arrived.filter((r) => r.state !== "zombie").length, JSON.stringify(arrived)).toBeGreaterThanOrEqual(4);
    writeFileSync(join(root.path, GATE), "");
    const exited = await client.wait(120_000);
    expect(client.text).toBe(expectedDigest());
    expect(exited.code, client.describe()).toBe(0);
  }, 240_000);

  test("--children home: md5sum moves alone to B; its pipe and terminal go through A, its exit reaches the waiting shell", async () => {
    root = tempDir("tree-home");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const { client, id } = await startPipeline(a.url);
    const rows = await treeOf(a.url, id);
    const first = Math.min(...rows.map((r) => r.pid));
    const stages = rows.filter((r) => r.ppid === first).map((r) => r.pid).sort((x, y) => x - y);
    const gate = stages[1], md5sum = stages[2]; // the shell forks the stages in order
    // A process that is not in the guest cannot move.
    const refused = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(gate + 1000)]);
    expect(refused.code, refused.describe()).not.toBe(0);
    expect(refused.stderr).toMatch(/no live process \d+ in this guest/);

    const moved = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(md5sum)]);
    expect(moved.code, moved.describe()).toBe(0);
    expect(moved.stdout).toContain(`process ${md5sum} of ${id} moved alone to ${b.url}`);
    const there = (await ps(b.url)).find((g) => g.id === `${id}-${md5sum}`);
    expect(there?.status).toBe("running");
    expect((await treeOf(a.url, id)).find((r) => r.pid === md5sum)?.state).toBe("away");

    writeFileSync(join(root.path, GATE), "");
    const exited = await client.wait(120_000);
    expect(client.text).toBe(expectedDigest());
    expect(exited.code, client.describe()).toBe(0);
    // The extra hop, as a residual dependency: the sorted numbers crossed A -> B through the home.
    const stats = await roam(["stats", id, "--on", a.url]);
    const forwarded = /home of process (\d+) on (\S+) \(guest \S+\): forwarded (\d+) messages, (\d+) bytes/.exec(stats.stdout);
    expect(forwarded, stats.stdout).not.toBeNull();
    expect(Number(forwarded![1])).toBe(md5sum);
    // Every byte md5sum read (the sorted numbers) and wrote (its digest), once: nothing lost or repeated.
    expect(Number(forwarded![4])).toBe(numbersText().length + expectedDigest().length);
    expect((await ps(b.url)).find((g) => g.id === `${id}-${md5sum}`)?.status).toBe("exited");
  }, 240_000);

  test("--children home: the shell at the top (the first process) moves alone while its children run at home; it reaps them there, forks more here, and its exit is the guest's", async () => {
    root = tempDir("tree-home-shell");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const client = await runScript(a.url, FAMILY_SCRIPT);
    const rows = await treeOf(a.url, client.id);
    const shell = Math.min(...rows.map((r) => r.pid));
    const moved = await roam(["migrate", client.id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(shell)]);
    expect(moved.code, moved.describe()).toBe(0);
    const home = await treeOf(a.url, client.id);
    expect(home.find((r) => r.pid === shell)?.state).toBe("away");
    expect(home.filter((r) => r.ppid === shell && r.state !== "zombie").length, JSON.stringify(home)).toBe(3); // a, b, c stay
    // The link between it and its family is A's and B's: neither guest moves on or leaves as a checkpoint meanwhile.
    for (const args of [["migrate", `${client.id}-${shell}`, "--on", b.url, "--to", a.url], ["checkpoint", `${client.id}-${shell}`, "--on", b.url, "-o", join(root.path, "x.snap")]]) {
      const refused = await roam(args);
      expect(refused.code, refused.describe()).not.toBe(0);
      expect(refused.stderr).toMatch(/is a process that moved here alone from \S+ on \S+: its family reaches it through this host, so it cannot be (migrated|checkpointed)/);
    }
    const homeStays = await roam(["migrate", client.id, "--on", a.url, "--to", b.url]);
    expect(homeStays.code, homeStays.describe()).not.toBe(0);
    expect(homeStays.stderr).toMatch(new RegExp(`its process ${shell} runs alone on \\S+ and reaches its family through this host, so the guest cannot be migrated until that process ends`));
    writeFileSync(join(root.path, GATE), "");
    await waitUntil(() => client.proc.text.includes("group=0\n"), 60_000, () => `the shell to reap a at home and signal its group: ${client.proc.describe()}`);
    writeFileSync(join(root.path, GATE2), ""); // b ends while the shell also has a child of its own on B
    const exited = await client.proc.wait(120_000);
    expect(client.proc.text).toBe(FAMILY_OUTPUT); // what qemu-riscv32 prints
    expect(exited.code, client.proc.describe()).toBe(4);
    // The same script unmoved (both gates open now) prints the same bytes.
    const unmoved = await runScript(b.url, FAMILY_SCRIPT);
    expect((await unmoved.proc.wait(60_000)).code, unmoved.proc.describe()).toBe(4);
    expect(unmoved.proc.text).toBe(client.proc.text);
    const stats = await roam(["stats", client.id, "--on", a.url]);
    expect(stats.stdout, stats.describe()).toMatch(new RegExp(`home of process ${shell} on \\S+ \\(guest ${client.id}-${shell}\\): forwarded [1-9]\\d* messages`));
  }, 240_000);

  test("--children home: a C parent that moved alone waits for its children at home by pid, group and any, with WNOHANG, WNOWAIT, wait4 and waitid, SIGCHLD ignored; select on its stdin at home", async () => {
    root = tempDir("tree-home-waits");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const proc = new Proc(["run", "--on", a.url, "--root", ".", join(REPO, "guests/bin/calls/homewait.elf")]);
    const started = /roam: guest (\S+) on (\S+)/;
    await waitUntil(() => started.test(proc.err) || proc.exited !== undefined, 20_000, () => `the guest id from ${proc.describe()}`);
    const id = started.exec(proc.err)![1];
    await treeOf(a.url, id); // the parent and its children a, b, c (d is a zombie)
    const moved = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", "1000"]);
    expect(moved.code, moved.describe()).toBe(0);
    writeFileSync(join(root.path, "go"), "");
    // Its stdin is A's console: select times out at B with nothing there, then input typed at A ends the next one.
    await waitUntil(() => proc.text.includes("with no input: 0\n"), 60_000, () => `the short select to time out: ${proc.describe()}`);
    proc.write("hello\n");
    const exited = await proc.wait(120_000);
    expect(proc.text).toBe(HOMEWAIT_OUTPUT); // what qemu-riscv32 prints (guests/calls/homewait.c)
    expect(exited.code, proc.describe()).toBe(0);
  }, 240_000);

  test("--children home: a child that moved alone stops and continues, and its parent at home sees both (WUNTRACED, WCONTINUED) before its exit", async () => {
    root = tempDir("tree-home-stop");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const proc = new Proc(["run", "--on", a.url, "--root", ".", join(REPO, "guests/bin/calls/awaystop.elf")]);
    const started = /roam: guest (\S+) on (\S+)/;
    await waitUntil(() => started.test(proc.err) || proc.exited !== undefined, 20_000, () => `the guest id from ${proc.describe()}`);
    const id = started.exec(proc.err)![1];
    const rows = await treeOf(a.url, id, 2);
    const child = Math.max(...rows.map((r) => r.pid));
    const moved = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(child)]);
    expect(moved.code, moved.describe()).toBe(0);
    writeFileSync(join(root.path, "go"), "");
    const exited = await proc.wait(60_000);
    // What qemu-riscv32 prints (guests/calls/awaystop.c).
    expect(proc.text).toBe("waitpid(WUNTRACED): the child, stopped by 19\nwaitpid(WCONTINUED): the child, continued\nwaitpid: the child, exited 7\n");
    expect(exited.code, proc.describe()).toBe(0);
  }, 120_000);

  test("--children home: ppoll on a forwarded pipe asks home, honours its timeout at the satellite, and wakes when data comes", async () => {
    const { client } = await moveSecondChildAlone("tree-home-poll", POLL_SCRIPT);
    writeFileSync(join(rootDir(), GATE), "");
    // The pipe stays empty: `read -t 1` must time out at B (before, ppoll said "ready" and the read waited at A for good).
    await waitUntil(() => client.proc.text.includes("first="), 60_000, () => `the timed read to give up: ${client.proc.describe()}`);
    writeFileSync(join(rootDir(), GATE2), "");
    const exited = await client.proc.wait(120_000);
    expect(client.proc.text).toBe("first=1 []\nsecond=0 [hello]\n");
    expect(exited.code, client.proc.describe()).toBe(0);
  }, 240_000);

  test("--children home: when the home host dies, the forwarded read in progress and later ones fail with EIO; the satellite runs on and logs it once", async () => {
    const { a, b, client, moved: reader } = await moveSecondChildAlone("tree-home-broken", BROKEN_SCRIPT);
    const satellite = `${client.id}-${reader}`;
    writeFileSync(join(rootDir(), GATE), "");
    // cat, forked on B, waits in a read of the pipe that A holds for it.
    await waitForProcess(b.url, satellite, "cat");
    await a.crash();
    await waitUntil(() => existsSync(join(rootDir(), "after.txt")) && readFileSync(join(rootDir(), "after.txt"), "utf8").includes("again="), 60_000, "the satellite to go on after losing its home");
    expect(readFileSync(join(rootDir(), "after.txt"), "utf8")).toBe("cat=1\nagain=1\n");
    await waitUntil(() => b.log.includes(`lost its home ${a.url}`), 30_000, () => `B's log line: ${b.log}`);
    expect(b.log.split("\n").filter((l) => l.includes(`lost its home ${a.url}`)).length, b.log).toBe(1);
    const entry = await waitForStatus(b.url, satellite, "exited");
    expect(entry.exitCode).toBe(0);
  }, 240_000);

  test("--children home: when the process's host dies, its family at home sees it killed (SIGKILL): its pipe closes, its parent's wait returns; the home logs it once", async () => {
    const { a, b, client, moved: cat } = await moveSecondChildAlone("tree-home-lost", LOST_SCRIPT);
    const ticks = client.proc.text.length;
    await waitUntil(() => client.proc.text.length > ticks, 60_000, () => `cat on B to print through A: ${client.proc.describe()}`);
    await b.crash();
    const exited = await client.proc.wait(60_000);
    expect(client.proc.text).toMatch(/^(tick\n)+pipeline=137\n$/);
    expect(exited.code, client.proc.describe()).toBe(0);
    const lost = a.log.split("\n").filter((l) => l.includes(`process ${cat} on ${b.url} is lost`));
    expect(lost.length, a.log).toBe(1);
  }, 120_000);

  test("--children home refuses to move a guest's only process alone (that is the whole guest), and the guest runs on", async () => {
    root = tempDir("tree-home-only");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const client = await runScript(a.url, `while [ ! -e ${GATE} ]; do :; done; echo done`);
    const refused = await roam(["migrate", client.id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", "1000"]);
    expect(refused.code, refused.describe()).not.toBe(0);
    expect(refused.stderr).toMatch(/process 1000 is the guest's only process here: moving it alone is moving the whole guest \(--children together\)/);
    writeFileSync(join(root.path, GATE), "");
    expect((await client.proc.wait(60_000)).code, client.proc.describe()).toBe(0);
    expect(client.proc.text).toBe("done\n");
  }, 120_000);

  test("--children disallow refuses to move a guest whose process has children, and the guest runs on", async () => {
    root = tempDir("tree-disallow");
    hosts = await startHosts(["A", "B"], root.path);
    const [a, b] = hosts;
    const { client, id } = await startPipeline(a.url);
    await treeOf(a.url, id);
    const r = await roam(["migrate", id, "--on", a.url, "--to", b.url, "--children", "disallow"]);
    expect(r.code, r.describe()).not.toBe(0);
    expect(r.stderr).toMatch(/has \d+ live child process(es)?; --children disallow refuses/);
    expect((await ps(a.url)).find((g) => g.id === id)?.status).toBe("running");
    writeFileSync(join(root.path, GATE), "");
    expect((await client.wait(120_000)).code, client.describe()).toBe(0);
    expect(client.text).toBe(expectedDigest());
  }, 240_000);
});

/**
 * Hosts A and B; `script` runs on A, and the second child of its first process
 * moves alone to B (--children home). What the home tests start from.
 */
/** The current test's directory (moveSecondChildAlone makes it). */
function rootDir(): string {
  if (!root) throw new Error("no test directory: moveSecondChildAlone makes it");
  return root.path;
}

async function moveSecondChildAlone(dir: string, script: string): Promise<{ a: HostProc; b: HostProc; client: { proc: Proc; id: string }; moved: number }> {
  root = tempDir(dir);
  hosts = await startHosts(["A", "B"], root.path);
  const [a, b] = hosts;
  const client = await runScript(a.url, script);
  const rows = await treeOf(a.url, client.id, 3);
  const first = Math.min(...rows.map((r) => r.pid));
  const pid = rows.filter((r) => r.ppid === first).map((r) => r.pid).sort((x, y) => x - y)[1];
  const moved = await roam(["migrate", client.id, "--on", a.url, "--to", b.url, "--children", "home", "--pid", String(pid)]);
  expect(moved.code, moved.describe()).toBe(0);
  return { a, b, client, moved: pid };
}

/** ps --json's processes of guest `id` on `url`, once `min` of them are live (the pipeline's: sh, seq, the gate, sort's shell, md5sum). */
async function treeOf(url: string, id: string, min = 4): Promise<ProcessRow[]> {
  let rows: ProcessRow[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const entry = (await ps(url)).find((g) => g.id === id) as unknown as { processes?: ProcessRow[] } | undefined;
    rows = entry?.processes ?? [];
    if (rows.filter((r) => r.state !== "zombie").length >= min) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for the pipeline's processes on ${url}: ${JSON.stringify(rows)}`);
}
