// Real programs against qemu-riscv32, byte for byte: BusyBox (ash and its
// applets, pipelines, command substitution, scripts, xargs, `while read`),
// Lua 5.4 scripts and the SQLite shell on a database file, each built with the
// musl SDK (guests/bin/real). Both run in a fresh directory holding the same
// files (roam's --root), with the same argv (argv[0] the ELF's absolute path),
// the same environment (HOME=/, PATH as below), stdin a
// pipe with the same bytes. stdout, stderr and the exit status must match.
//
// qemu-user cannot execve a RISC-V program (no binfmt_misc), so when BusyBox
// re-executes /proc/self/exe for an applet, QEMU fails and ash goes on to
// search PATH. PATH therefore names a host directory of one wrapper per applet
// (`exec qemu-riscv32 busybox.elf APPLET "$@"`): the same applet of the same
// ELF, under QEMU. Inside roam's sandbox that directory does not exist, and
// the re-exec itself works.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CaseDirs, QEMU, ROAM_JS, ROOT, describeRun, limiter, qemuPath, runProgram, type Run } from "../process-harness.js";

const TIMEOUT_MS = 120_000;
const requireQemu = !!process.env.ROAM_REQUIRE_QEMU;

interface RealCase {
  id: string;
  program: "busybox" | "lua" | "sqlite3";
  args: string[];
  files?: Record<string, string>;
  stdin?: string;
}

const sh = (id: string, script: string, files?: Record<string, string>, stdin?: string): RealCase => ({ id, program: "busybox", args: ["sh", "-c", script], files, stdin });

const WORDS = "pear\napple\nfig\nbanana\napple\ncherry\n";
const SCRIPT = `#!/bin/sh
# a script run by 'sh script.sh a b'
echo "args: $# $1 $2"
total=0
for n in $(seq 1 10); do total=$((total + n)); done
echo "total $total"
f() { echo "in f: $1"; return 3; }
f x; echo "f returned $?"
case "$1" in a) echo "case a";; *) echo "case other";; esac
`;

/**
 * The port nc listens on: under qemu-riscv32 it is the host's, so one per test process, and below Linux's ephemeral
 * range (32768-60999): the other tests' servers take port 0 and their clients get ephemeral ports, one of which once
 * held this port (it was 40000-59999) while QEMU's nc went to bind it ("nc: bind: Address in use", beside stress-ng).
 */
const NC_PORT = 20000 + (process.pid % 12000);

const BUSYBOX: RealCase[] = [
  sh("echo and printf", `echo hello world; printf '%s-%05d-%x\\n' abc 42 255; printf 'no newline'`),
  sh("cat, wc", "cat words.txt | wc -l; wc -c words.txt; wc -w < words.txt", { "words.txt": WORDS }),
  sh("sort, uniq", "sort words.txt | uniq -c; sort -r words.txt | head -2", { "words.txt": WORDS }),
  sh("grep", "grep -n an words.txt; grep -c apple words.txt; grep -v a words.txt; grep nothing words.txt; echo status $?", { "words.txt": WORDS }),
  sh("sed", "sed -e 's/a/A/g' -e '2d' words.txt; sed -n '3,4p' words.txt", { "words.txt": WORDS }),
  sh("awk", `awk '{ n[$1]++ } END { for (w in n) if (n[w] > 1) print w, n[w]; print NR }' words.txt; awk 'BEGIN { printf "%.3f %d\\n", 3.14159, 7/2 }'`, { "words.txt": WORDS }),
  sh("seq | sort -rn | head | md5sum", "seq 1 100000 | sort -rn | head -3 | md5sum"),
  sh("seq, tail", "seq 5 5 50 | tail -3; seq 1 1000 | tail -n 2"),
  sh("command substitution", `x=$(echo inner); y=$(seq 1 3 | wc -l); echo "x=$x y=$y"; echo "nested $(echo $(echo deep))"`),
  sh("script file", "sh script.sh a b; echo exit $?", { "script.sh": SCRIPT }),
  sh("xargs", "seq 1 10 | xargs echo; printf 'a b\\nc\\n' | xargs -n1 echo item"),
  sh("while read", `n=0; while read line; do n=$((n + 1)); echo "$n: $line"; done < words.txt; echo lines $n`, { "words.txt": WORDS }),
  sh("read from stdin", `while read a b; do echo "[$b|$a]"; done`, undefined, "one two\nthree four\n"),
  // In a directory of its own: the sandbox's root also holds what Linux puts there (/dev, /tmp), which qemu's cwd does not.
  sh("files: mkdir, cp, mv, rm, touch, ls", "mkdir w && cd w && mkdir -p d/e && cp ../words.txt d/w && mv d/w d/e/w2 && touch d/t && ls d d/e && rm d/t && ls -R d && rm -r d && ls", { "words.txt": WORDS }),
  sh("dd", "dd if=words.txt bs=4 count=3 2>/dev/null | wc -c; dd if=words.txt of=copy bs=7 2>err; cat copy | md5sum; cat err", { "words.txt": WORDS }),
  sh("md5sum", "md5sum words.txt; echo -n abc | md5sum", { "words.txt": WORDS }),
  sh("sleep and date", "sleep 0.05; date -u -d @86400 '+%Y-%m-%d %H:%M'; echo done"),
  sh("exit statuses", "false; echo $?; (exit 7); echo $?; sh -c 'exit 9'; echo $?; true && echo and || echo or"),
  sh("pipes and redirections", "echo to-err >&2; echo out | cat > f; cat f f; cat < f; echo $(cat f) appended >> f; cat f"),
  sh("subshells and background wait", "(echo sub; echo shell) | sort; sleep 0.01 & wait; echo waited $?"),
  sh("here-document", "cat <<EOF\nline 1\n$((6 * 7))\nEOF"),
  sh("a failing command's stderr", "cat missing.txt; echo status $?; ls missing-dir; echo status $?"),
  { id: "exit status of sh -c", program: "busybox", args: ["sh", "-c", "exit 42"] },
  // TCP over 127.0.0.1: a server in the background, a client retried until it listens (QEMU's is a real host port).
  sh("nc: a server and a client over TCP", `nc -l -p ${NC_PORT} & until echo hi | nc 127.0.0.1 ${NC_PORT} 2>/dev/null; do :; done; wait; echo server done $?`),
];

const LUA_PROGRAM = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print("fib", fib(20))
local t = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do t[#t + 1] = w end
table.sort(t)
print(table.concat(t, ","))
local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); return b * 2 end)
print("coroutine", co(1), co(10))
print(string.format("%5.2f|%-6s|%08x|%q", 2 / 3, "ab", 48879, "a\\nb"))
print(select("#", 1, nil, 3), math.maxinteger, 7 // 2, 7 % -3, 2^10)
local ok, err = pcall(function() error({ code = 42 }) end)
print("pcall", ok, err.code)
local f = assert(io.open("out.txt", "w")); f:write("written\\n", 12, "\\n"); f:close()
for line in io.lines("out.txt") do io.write("[", line, "]") end print()
print(#arg, arg[1])
setmetatable(_G, { __index = function(_, k) return "missing " .. k end })
print(undefined_name)
`;

const LUA: RealCase[] = [
  { id: "lua -e", program: "lua", args: ["-e", "print(1 + 2, 'lua', _VERSION)"] },
  { id: "lua script: functions, strings, coroutines, errors, files", program: "lua", args: ["prog.lua", "argument"], files: { "prog.lua": LUA_PROGRAM } },
  { id: "lua reads stdin", program: "lua", args: ["-e", "local n = 0 for l in io.lines() do n = n + #l end print(n)"], stdin: "abc\nde\n" },
  { id: "lua runtime error", program: "lua", args: ["-e", "local x = nil; print(x.field)"] },
];

const SQL_BIG = `
create table t(id integer primary key, k integer, v text);
begin;
with recursive c(i) as (select 1 union all select i + 1 from c where i < 100000)
insert into t(k, v) select (i * 7919) % 1000, 'row ' || i from c;
commit;
create index t_k on t(k);
select count(*), sum(k), min(v), max(v) from t;
select k, count(*) from t where k between 10 and 12 group by k order by k;
`;

const SQLITE: RealCase[] = [
  { id: "sqlite3 :memory:", program: "sqlite3", args: [":memory:", "select 1 + 2, upper('x'), length(randomblob(8))"] },
  { id: "sqlite3: a file database, 100k rows in a transaction, an index, aggregates", program: "sqlite3", args: ["big.db"], stdin: SQL_BIG },
  {
    id: "sqlite3: the database reopened", program: "sqlite3", args: ["db"],
    stdin: "create table a(x); insert into a values (1), (2), (3);\n.quit\n",
  },
  { id: "sqlite3: an error", program: "sqlite3", args: [":memory:", "select * from nowhere"] },
];

const dirs = new CaseDirs("roam-differential-");
const slot = limiter(2);
let applets = ""; // the wrappers' directory: PATH on both
beforeAll(() => {
  dirs.open();
  applets = mkdtempSync(join(tmpdir(), "roam-applets-"));
  if (!qemuPath) return;
  const busybox = join(ROOT, "guests", "bin", "real", "busybox.elf");
  const list = spawnSync(qemuPath, [busybox, "--list"], { encoding: "utf8" });
  for (const name of list.stdout.split("\n").filter(Boolean)) {
    writeFileSync(join(applets, name), `#!/bin/sh\nexec ${qemuPath} ${busybox} ${name} "$@"\n`);
    chmodSync(join(applets, name), 0o755);
  }
});
afterAll(() => {
  dirs.close();
  rmSync(applets, { recursive: true, force: true });
});

function run(kind: "qemu" | "roam", c: RealCase, cwd: string): Promise<Run> {
  const elf = join(ROOT, "guests", "bin", "real", `${c.program}.elf`);
  const [program, args] = kind === "qemu" ? [qemuPath!, [elf, ...c.args]] : [process.execPath, [ROAM_JS, "run", "--root", cwd, elf, ...c.args]];
  return runProgram(kind, program, args, { cwd, env: { HOME: "/", PATH: applets }, stdin: c.stdin ?? "", timeoutMs: TIMEOUT_MS - 10_000 });
}

/** Runs `c` on both, each in its own fresh directory with the case's files. */
async function both(c: RealCase): Promise<[Run, Run]> {
  const prepare = (kind: string) => {
    const cwd = dirs.fresh({ id: c.id, guest: c.program, args: c.args, status: 0 }, `${kind}-${c.program}`);
    for (const [name, data] of Object.entries(c.files ?? {})) writeFileSync(join(cwd, name), data);
    return cwd;
  };
  const qemuDir = prepare("qemu"), roamDir = prepare("roam");
  return Promise.all([slot(() => run("qemu", c, qemuDir)), slot(() => run("roam", c, roamDir))]);
}

describe.skipIf(!qemuPath && !requireQemu)(`real programs, roam run against ${QEMU}`, () => {
  test.each([...BUSYBOX, ...LUA, ...SQLITE])("$program: $id", async (c) => {
    expect(qemuPath, `${QEMU} is not on PATH (ROAM_REQUIRE_QEMU is set)`).toBeTruthy();
    const [qemu, roam] = await both(c);
    const what = `qemu: ${describeRun(qemu)}\nroam: ${describeRun(roam)}`;
    expect(roam.timedOut, what).toBe(false);
    expect(roam.stdout.toString("latin1"), what).toBe(qemu.stdout.toString("latin1"));
    expect(roam.stderr, what).toBe(qemu.stderr);
    expect(roam.status, what).toBe(qemu.status);
  }, TIMEOUT_MS);
});
