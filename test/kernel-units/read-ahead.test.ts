// Read-ahead for read(2) of a regular file (src/kernel/read-ahead.ts): a run of small sequential reads costs one host
// read per READ_AHEAD_BYTES, and the buffer serves only the next reads of the same descriptor with no system call
// between, young enough; the bytes are always the file's. A guest's view of it: test/kernel/musl-calls.test.ts.
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { statFromData, type OpenFile } from "../../src/kernel/files.js";
import { MAX_AGE_MS, READ_AHEAD_BYTES, ReadAhead, type Descriptors } from "../../src/kernel/read-ahead.js";
import type { ProcessConsole, StreamDescription } from "../../src/kernel/syscalls.js";

const dir = mkdtempSync(join(tmpdir(), "roam-read-ahead-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The host clock the buffer's age is read from (src/machine/host-clock.ts) stands still unless a test moves it: on a
// loaded machine a millisecond can pass between two reads, and the counts of host reads below would change.
beforeEach(() => { vi.useFakeTimers({ toFake: ["hrtime"] }); });
afterEach(() => vi.useRealTimers());

const SYS_READ = 63, SYS_WRITE = 64, SYS_GETPID = 172;

/** A host file as the fake reads see it (`bytes` may change or grow between reads, as another writer would make it) and a real descriptor for the regular-file check. */
function hostFile(size: number) {
  const initial = Buffer.alloc(size);
  for (let i = 0; i < size; i++) initial[i] = (i * 7 + (i >> 12)) & 0xff;
  const path = join(dir, `f${size}-${Math.random()}`);
  writeFileSync(path, "x");
  const host = {
    bytes: initial,
    fd: openSync(path, "r"),
    reads: [] as Array<{ position: number; length: number }>,
    hostRead: (_fd: number, views: readonly Uint8Array[], position: number): number => {
      let n = 0;
      for (const view of views) {
        const part = Math.max(0, Math.min(view.length, host.bytes.length - position - n));
        view.set(host.bytes.subarray(position + n, position + n + part));
        n += part;
        if (part < view.length) break;
      }
      host.reads.push({ position, length: views.reduce((sum, v) => sum + v.length, 0) });
      return n;
    },
    close: () => closeSync(host.fd),
  };
  return host;
}

const openFile = (): OpenFile => ({ id: 1, path: "/f", flags: 0, mode: 0, position: 0, kind: "file" });

/** A descriptor table of `files` (what beforeSyscall looks a write's descriptor up in). */
const descriptors = (files: Record<number, OpenFile> = {}): Descriptors => ({ get: (fd) => files[fd] });

/** A console whose standard streams are on the host as `described` says (a terminal when it says nothing). */
function consoleOn(described?: StreamDescription): ProcessConsole {
  return {
    write: () => undefined, read: () => null, hasInput: () => false, isTerminal: () => described === undefined,
    windowSize: () => null, describe: described === undefined ? undefined : () => described,
    outputIsFile: () => described?.kind === "host" && described.stat.isFile(),
  };
}
const CONSOLE = consoleOn();

describe("read-ahead", () => {
  test("a run of 4 KiB reads: one host read per READ_AHEAD_BYTES after the first, and the file's bytes", () => {
    const host = hostFile(300 * 1024), table = descriptors(), file = openFile(), ra = new ReadAhead();
    const got = Buffer.alloc(host.bytes.length);
    let position = 0;
    for (;;) {
      ra.beforeSyscall(table, SYS_READ, 3, CONSOLE);
      const n = ra.read(table, 3, file, position, [got.subarray(position, position + 4096)], host.fd, host.hostRead);
      if (n === 0) break;
      position += n;
    }
    expect(got.equals(host.bytes)).toBe(true);
    // The first read goes to the host as it asks; the second continues it, so it and those after come from fills.
    expect(host.reads[0]).toEqual({ position: 0, length: 4096 });
    expect(host.reads.slice(1).every((r) => r.length === READ_AHEAD_BYTES)).toBe(true);
    // The read at the end is served too: the last fill came up short, so the file ended there (as it did then).
    expect(host.reads.length).toBe(1 + Math.ceil((host.bytes.length - 4096) / READ_AHEAD_BYTES));
    host.close();
  });

  test("any system call but the next read through the same table and descriptor drops it: the bytes are the file's now", () => {
    const host = hostFile(100 * 1024), file = openFile(), table = descriptors({ 3: file }), ra = new ReadAhead();
    const chunk = Buffer.alloc(4096);
    ra.read(table, 3, file, 0, [chunk], host.fd, host.hostRead);
    ra.read(table, 3, file, 4096, [chunk], host.fd, host.hostRead); // fills from 4096
    const fills = host.reads.length;
    for (const [what, call] of [
      ["a write", () => ra.beforeSyscall(table, SYS_WRITE, 3, CONSOLE)],
      ["getpid", () => ra.beforeSyscall(table, SYS_GETPID, 0, CONSOLE)],
      ["a read of another descriptor", () => ra.beforeSyscall(table, SYS_READ, 4, CONSOLE)],
      ["another process's read", () => ra.beforeSyscall(descriptors(), SYS_READ, 3, CONSOLE)],
      ["a signal", () => ra.drop()],
    ] as const) {
      host.bytes[8192] ^= 0xff; // another writer changes the next byte to read
      call();
      const n = ra.read(table, 3, file, 8192, [chunk], host.fd, host.hostRead);
      expect(n, what).toBe(4096);
      expect(chunk[0], what).toBe(host.bytes[8192]);
    }
    expect(host.reads.length, "each read after a drop went to the host").toBe(fills + 5);
    // The next reads of the same descriptor with no call between: one fills the buffer again, the next is served.
    for (const position of [12288, 16384]) {
      ra.beforeSyscall(table, SYS_READ, 3, CONSOLE);
      ra.read(table, 3, file, position, [chunk], host.fd, host.hostRead);
      expect(chunk.equals(host.bytes.subarray(position, position + 4096))).toBe(true);
    }
    expect(host.reads.length).toBe(fills + 6);
    host.close();
  });

  test("a write between the reads to what is no file keeps it; to a file, or to a console the host sent to a file, drops it", () => {
    const regular: StreamDescription = { kind: "host", stat: statFromData({ mode: 0o100644, ino: 7, nlink: 1, dev: 1, size: 0 }) };
    const devNull: StreamDescription = { kind: "host", stat: statFromData({ mode: 0o020666, ino: 8, nlink: 1, dev: 1, size: 0 }) };
    const file = openFile();
    const other = (kind: OpenFile["kind"], more: Partial<OpenFile> = {}): OpenFile => ({ id: 2, path: "/x", flags: 1, mode: 0, position: 0, kind, ...more });
    const cases: Array<[string, OpenFile, ProcessConsole, boolean]> = [
      ["a pipe", other("pipe", { pipe: 1 }), CONSOLE, true],
      ["a socket", other("socket", { socket: 1 }), CONSOLE, true],
      ["/dev/null", other("device", { device: "null" }), CONSOLE, true],
      ["stdout on a terminal", other("terminal", { terminal: 1 }), CONSOLE, true],
      ["stdout on a host pipe", other("terminal", { terminal: 1 }), consoleOn({ kind: "pipe" }), true],
      ["stdout on the host's /dev/null", other("terminal", { terminal: 1 }), consoleOn(devNull), true],
      ["stdout on a host file", other("terminal", { terminal: 1 }), consoleOn(regular), false],
      ["/dev/tty with the console on a host file", other("device", { device: "tty" }), consoleOn(regular), false],
      ["a regular file", other("file"), CONSOLE, false],
      ["the file read itself", file, CONSOLE, false],
    ];
    for (const [what, written, console, keeps] of cases) {
      const host = hostFile(100 * 1024), table = descriptors({ 3: file, 4: written }), ra = new ReadAhead();
      const chunk = Buffer.alloc(4096);
      ra.read(table, 3, file, 0, [chunk], host.fd, host.hostRead);
      ra.read(table, 3, file, 4096, [chunk], host.fd, host.hostRead); // fills from 4096
      const fills = host.reads.length;
      ra.beforeSyscall(table, SYS_WRITE, written === file ? 3 : 4, console);
      ra.beforeSyscall(table, SYS_READ, 3, console);
      ra.read(table, 3, file, 8192, [chunk], host.fd, host.hostRead);
      expect(chunk.equals(host.bytes.subarray(8192, 12288)), what).toBe(true);
      expect(host.reads.length - fills, `${what}: host reads after the write`).toBe(keeps ? 0 : 1);
      // A write of another process (another table), even to a pipe, drops it as any call of another process does.
      ra.beforeSyscall(descriptors({ 4: other("pipe", { pipe: 1 }) }), SYS_WRITE, 4, console);
      ra.read(table, 3, file, 12288, [chunk], host.fd, host.hostRead);
      expect(host.reads.length - fills, `${what}: after another process's write`).toBe(keeps ? 1 : 2);
      host.close();
    }
  });

  test("a fill older than MAX_AGE_MS serves nothing", () => {
    const host = hostFile(100 * 1024), table = descriptors(), file = openFile(), ra = new ReadAhead();
    const chunk = Buffer.alloc(4096);
    ra.read(table, 3, file, 0, [chunk], host.fd, host.hostRead);
    ra.read(table, 3, file, 4096, [chunk], host.fd, host.hostRead);
    const fills = host.reads.length;
    vi.advanceTimersByTime(MAX_AGE_MS); // still young: served
    ra.read(table, 3, file, 8192, [chunk], host.fd, host.hostRead);
    expect(host.reads.length).toBe(fills);
    vi.advanceTimersByTime(1);
    host.bytes[12288] ^= 0xff;
    ra.read(table, 3, file, 12288, [chunk], host.fd, host.hostRead);
    expect(host.reads.length, "filled again").toBe(fills + 1);
    expect(chunk[0]).toBe(host.bytes[12288]);
    host.close();
  });

  test("a jump elsewhere, a large read, a read of another description: straight to the host", () => {
    const host = hostFile(200 * 1024), table = descriptors(), file = openFile(), ra = new ReadAhead();
    const chunk = Buffer.alloc(4096), large = Buffer.alloc(32 * 1024);
    ra.read(table, 3, file, 0, [chunk], host.fd, host.hostRead);
    ra.read(table, 3, file, 100 * 1024, [chunk], host.fd, host.hostRead); // not where the last read ended
    ra.read(table, 3, file, 104 * 1024, [large], host.fd, host.hostRead); // continues it, but larger than a quarter of the buffer
    ra.read(table, 3, openFile(), 136 * 1024, [chunk], host.fd, host.hostRead); // another description
    expect(host.reads).toEqual([
      { position: 0, length: 4096 }, { position: 100 * 1024, length: 4096 }, { position: 104 * 1024, length: 32 * 1024 },
      { position: 136 * 1024, length: 4096 },
    ]);
    expect(chunk.equals(host.bytes.subarray(136 * 1024, 140 * 1024))).toBe(true);
    host.close();
  });

  test("at the file's end: a short read, then 0; what is appended after a drop is read", () => {
    const host = hostFile(10_000), table = descriptors(), file = openFile(), ra = new ReadAhead();
    const chunk = Buffer.alloc(4096);
    const at = (position: number) => ra.read(table, 3, file, position, [chunk], host.fd, host.hostRead);
    expect(ra.read(table, 3, file, 0, [], host.fd, host.hostRead), "a read of 0 bytes").toBe(0);
    expect(host.reads, "and no host read for it").toEqual([]);
    expect([at(0), at(4096), at(8192), at(10_000)]).toEqual([4096, 4096, 10_000 - 8192, 0]);
    expect(chunk.subarray(0, 10_000 - 8192).equals(host.bytes.subarray(8192))).toBe(true);
    ra.beforeSyscall(table, SYS_WRITE, 4, CONSOLE); // the guest appends (another descriptor's write)
    host.bytes = Buffer.concat([host.bytes, Buffer.from("APPENDED")]);
    expect(at(10_000)).toBe(8);
    expect(chunk.subarray(0, 8).toString()).toBe("APPENDED");
    host.close();
  });

  test("a FIFO in the guest's root (of kind 'file' too) is never read ahead: bytes the guest did not ask for would go", () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const fd = openSync(fifo, "r+"); // read and write: opening does not wait for a writer
    const table = descriptors(), file = openFile(), ra = new ReadAhead();
    const lengths: number[] = [];
    const hostRead = (_fd: number, views: readonly Uint8Array[]) => { lengths.push(views[0].length); return views[0].length; };
    const chunk = Buffer.alloc(1024);
    for (let i = 0; i < 4; i++) ra.read(table, 3, file, i * 1024, [chunk], fd, hostRead);
    expect(lengths).toEqual([1024, 1024, 1024, 1024]);
    closeSync(fd);
  });
});
