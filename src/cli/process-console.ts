// The process-mode guest's terminal: its stdin, stdout and stderr are the CLI's.
// Input is read only once the guest asks for it, and a guest blocked in read(0)
// waits on an event, never spinning. Node's stdin stream is made only then too:
// making it loads Node's streams (~3 ms of a run's start) for the many guests
// that never read; output goes straight to the descriptors (direct-output.ts).
// A stdin that is a regular file or /dev/null (`< input`, `</dev/null`: what a
// script or a benchmark gives) has no stream at all: the guest's read(0) is a
// read(2) of descriptor 0, there and then, as on Linux. Such a read never waits,
// and the stream cost more than the module loads: it reads ahead in libuv's
// thread pool (whose first use starts its threads) and hands each chunk over on
// a later event-loop turn, while the guest sits blocked in read(0).

import * as fs from "node:fs";
import { BrokenPipe, type ProcessConsole, type StreamDescription } from "../kernel/syscalls.js";
import { readsWithoutWaiting } from "./descriptor-input.js";
import { DirectOutput, OutputClosed, isTerminalDescriptor } from "./direct-output.js";

/** The most one read(0) of a file takes at once (a guest may ask for far more; it reads again, as from any file). */
const DIRECT_READ_BYTES = 256 * 1024;

export class StdioProcessConsole implements ProcessConsole {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private listening = false;
  private readonly waiters: Array<() => void> = [];
  private stdin: NodeJS.ReadStream | null = null;
  /** Whether stdin is read with read(2) of descriptor `stdinFd` (a file or /dev/null), decided at the guest's first read. */
  private direct = false;
  private readonly stdout: DirectOutput;
  private readonly stderr: DirectOutput;
  /** Whether the guest has the host's terminal in raw mode (takeTerminal). */
  private rawTerminal = false;
  /** outputIsFile, by stream, once asked. */
  private readonly outputFile: { 1?: boolean; 2?: boolean } = {};

  /**
   * Each stream of the CLI's (process.stdin, process.stdout, process.stderr) is made only if the guest needs it;
   * `stdinFd`, the descriptor behind openStdin's stream, is read directly when it is a file or /dev/null.
   */
  constructor(
    private readonly openStdin: () => NodeJS.ReadStream,
    openStdout: () => NodeJS.WriteStream,
    openStderr: () => NodeJS.WriteStream,
    private readonly stdinFd?: number,
  ) {
    this.stdout = new DirectOutput(1, openStdout);
    this.stderr = new DirectOutput(2, openStderr);
  }

  /** A reader that went away (`| head`) ends the guest as SIGPIPE would (BrokenPipe). */
  write(stream: 1 | 2, bytes: Uint8Array): void {
    try {
      (stream === 1 ? this.stdout : this.stderr).write(bytes);
    } catch (error) {
      if (error instanceof OutputClosed) throw new BrokenPipe();
      throw error;
    }
  }

  read(max: number): Uint8Array | null {
    this.listen();
    if (this.direct) return this.readDirect(max);
    if (this.queue.length === 0) return this.ended ? new Uint8Array(0) : null;
    const first = this.queue[0];
    if (first.length <= max) {
      this.queue.shift();
      return first;
    }
    this.queue[0] = first.subarray(max);
    return first.subarray(0, max);
  }

  /** Resolves when input is queued or has ended. */
  hasInput(): boolean {
    this.listen();
    return this.direct || this.queue.length > 0 || this.ended;
  }

  inputReady(): Promise<void> {
    this.listen();
    if (this.direct || this.queue.length > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  isTerminal(stream: 0 | 1 | 2): boolean {
    if (stream === 0) return this.stdin ? this.stdin.isTTY === true : isTerminalDescriptor(0); // as process.stdin.isTTY
    return (stream === 1 ? this.stdout : this.stderr).isTerminal();
  }

  /** What the user gave as 0, 1 and 2: a terminal, a pipe, or a file or device (its host stat, and where its offset is). */
  describe(stream: 0 | 1 | 2): StreamDescription {
    if (this.isTerminal(stream)) return { kind: "terminal" };
    let stat: fs.Stats;
    try { stat = fs.fstatSync(stream); } catch { return { kind: "pipe" }; }
    if (stat.isFIFO()) return { kind: "pipe" };
    return { kind: "host", stat, position: stat.isFile() ? hostOffset(stream) : undefined };
  }

  outputIsFile(stream: 1 | 2): boolean {
    // The host's descriptors 1 and 2 stay what they were when Roam started: asked once (two fstats and an isatty).
    return (this.outputFile[stream] ??= (() => { const d = this.describe(stream); return d.kind === "host" && d.stat.isFile(); })());
  }

  windowSize(): { rows: number; columns: number } | null {
    return this.stdout.windowSize();
  }

  /**
   * The host's terminal for the guest's line discipline (ProcessConsole.takeTerminal): raw mode, and every chunk typed
   * to `keys` from now on, read or not, as a terminal takes keys while a program computes (Ctrl-C must reach it).
   */
  takeTerminal(keys: (bytes: Uint8Array) => void, hangUp: () => void): boolean {
    // Started in the background (`roam run prog &`), Roam leaves the terminal to the foreground job, as a program that
    // reads nothing would: raw mode from there would stop it (SIGTTOU). Its guest then reads through the host's
    // line discipline, if at all.
    if (this.listening || !isTerminalDescriptor(0) || inBackground()) return false;
    this.listening = true;
    const stdin = (this.stdin = this.openStdin());
    if (!stdin.isTTY) return false;
    this.rawTerminal = true;
    stdin.setRawMode(true);
    stdin.on("data", (chunk: Buffer) => keys(chunk));
    stdin.on("end", hangUp);
    stdin.on("error", hangUp);
    return true;
  }

  /**
   * The host's terminal as it was, for a while (the guest is stopped and Roam stops with it: the user's shell gets
   * its terminal back) or for good (close); `resume` puts the guest's raw mode back.
   */
  releaseTerminal(): void {
    if (this.rawTerminal) this.stdin?.setRawMode(false);
  }

  resumeTerminal(): void {
    if (this.rawTerminal) this.stdin?.setRawMode(true);
  }

  /** Stops reading (the guest is done), so Node can exit; the host's terminal leaves raw mode. */
  close(): void {
    this.releaseTerminal();
    if (this.listening) this.stdin?.pause();
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    if (this.stdinFd !== undefined && readsWithoutWaiting(this.stdinFd)) {
      this.direct = true;
      return;
    }
    this.stdin = this.openStdin();
    this.stdin.on("data", (chunk: Buffer) => { this.queue.push(chunk); this.flushWaiters(); });
    this.stdin.on("end", () => { this.ended = true; this.flushWaiters(); });
    this.stdin.on("error", () => { this.ended = true; this.flushWaiters(); });
  }

  /** read(2) of the file at its offset, which the guest's reads move as Linux's do; an error reads as its end (as on the stream). */
  private readDirect(max: number): Uint8Array {
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(max, DIRECT_READ_BYTES)));
    let length: number;
    try { length = fs.readSync(this.stdinFd!, buffer, 0, buffer.length, null); } catch { length = 0; }
    return buffer.subarray(0, length);
  }

  private flushWaiters(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Where the host's offset of `fd` is (Linux's /proc/self/fdinfo); 0 where that cannot be asked. */
function hostOffset(fd: number): number {
  try {
    const pos = /^pos:\s+(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
    return pos ? Number(pos[1]) : 0;
  } catch {
    return 0;
  }
}

/** Whether this process's group is not its terminal's foreground group (/proc/self/stat's pgrp and tpgid, proc(5)). */
function inBackground(): boolean {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after "pid (comm) ": state ppid pgrp session tty_nr tpgid
    return Number(fields[2]) !== Number(fields[5]);
  } catch {
    return false; // no /proc: as in the foreground
  }
}
