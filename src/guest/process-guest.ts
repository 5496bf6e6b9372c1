// A process-mode guest as a host keeps it: the Process, its console, who it is,
// and how it freezes into a snapshot and comes back from one.

import type { SocketNames } from "../kernel/sockets/names.js";
import type { GuestMessage } from "../net/host-links.js";
import { parseElf } from "../elf/index.js";
import { SIGCONT } from "../kernel/signals.js";
import { Kernel, type ProcessResult } from "../kernel/kernel.js";
import type { Core } from "../machine/core.js";
import type { PostcopyPages } from "../machine/postcopy-pages.js";
import type { GuestInfo, GuestSnapshot } from "../snapshot/snapshot.js";
import { GuestConsole } from "./guest-console.js";
import { inBaseLayer, type FileCapabilities, type RemoteFiles } from "../kernel/files.js";
import type { ProcessInfo } from "./runnable.js";
import type { Home, ProcessImage } from "../kernel/lone-process.js";
import { allRamPages, checkRestorable, hartBlock, newGuestInfo, restoreHartAndPages } from "./runnable.js";
import type { BusyTime } from "../machine/busy-time.js";

export interface GuestHostOptions {
  core: Core;
  root: string; // the guest's sandbox directory on this host (its GuestInfo.root within the host's --root)
  hostName: string;
  /** This host's URL: files opened here are served from it after the guest moves away. */
  hostUrl?: string;
  /** How files left on other hosts are reached. */
  remoteFiles?: RemoteFiles;
  /** This host's capabilities for files that guests leaving it keep open (src/cluster/home-files.ts). */
  homeFiles?: FileCapabilities;
  translate?: boolean;
  warn?: (message: string) => void;
  /** The names a guest's sockets bind and look up (a host's reach other guests: src/cluster/cluster-names.ts). */
  socketNames?: (guestId: string, root: string) => SocketNames;
  /** Sends a message to another guest (docs/MESSAGES.md): the host's switch takes it; `from` is this guest's id. */
  sendMessage?: (message: GuestMessage) => void;
  /** Whether the host has work waiting for another guest (the kernel then ends its batch early). */
  yieldWanted?: () => boolean;
}

export interface StartOptions {
  elf: Uint8Array;
  program: string;
  argv: string[];
  envp?: string[];
  ramBytes?: number;
  /** Chosen by the host when it made the guest's root for it (default: a new id). */
  id?: string;
  /** GuestInfo.root: `root` above, relative to the host's --root (default "."). */
  root?: string;
  /** A terminal for the guest, of this size (the client's: `roam run --on` on a TTY). */
  terminal?: { rows: number; columns: number };
}

export class ProcessGuest {
  readonly process: Kernel;
  readonly console: GuestConsole;
  readonly info: GuestInfo;

  private constructor(readonly options: GuestHostOptions, info: GuestInfo, console: GuestConsole, process: (console: GuestConsole) => Kernel) {
    this.info = info;
    this.console = console;
    this.process = process(console);
    this.process.openFiles.remote = options.remoteFiles;
    this.process.openFiles.owner = info.id;
    // With a terminal, the first process is the user's job: its stop goes to the attached clients (a process that
    // moved here alone reports its stops to its home instead: lone-processes.ts sets this again).
    if (info.terminal) this.process.onStopReport = (code, sig) => { if (code === 5 /* CLD_STOPPED */) console.jobStopped(sig); };
    this.filesComeHome();
  }

  /** The signal the guest's job (its first process, with a terminal) is stopped by, or 0 when it is not stopped. */
  jobStoppedBy(): number {
    const first = this.process.tasks.get(this.process.firstPid);
    return this.info.terminal && first?.status === "stopped" ? first.lastStopSignal || 19 : 0;
  }

  /** An attached client's `fg`: the first process's group continues (SIGCONT). */
  continueJob(): void {
    const first = this.process.tasks.get(this.process.firstPid);
    if (first && first.status !== "zombie") this.process.signalGroup(first.pgid, SIGCONT);
  }

  /** Capabilities of files that came home with the guest: dropped when it starts here (until then it may still run elsewhere). */
  private capsHome: string[] = [];

  /** Files whose home is this host are local again (the guest came back). */
  private filesComeHome(): void {
    for (const file of this.process.openFiles.all()) {
      if (!file.home || file.home !== this.options.hostUrl) continue;
      if (file.cap && !this.capsHome.includes(file.cap)) this.capsHome.push(file.cap); // a prestate updated twice restores its files twice
      delete file.home;
      delete file.cap;
    }
  }

  /** A message from another guest (the host's switch delivers them in order per sending host). */
  receiveMessage(message: GuestMessage): void {
    this.process.receiveMessage(message);
  }

  /** Restored from a checkpoint (not arrived by a migration): see Sockets.probeRemoteStreams. */
  probeRemoteStreams(): void {
    this.process.probeRemoteStreams();
  }

  /** Taken over by its backup from an older state: see Sockets.resumeAfterTakeover. */
  resumeAfterTakeover(): void {
    this.process.sockets.resumeAfterTakeover();
  }

  dependencies(): string[] {
    return this.process.openFiles.dependencies();
  }

  /** The attached client's terminal changed size: the guest's terminal takes it (SIGWINCH for its foreground group). */
  resizeTerminal(rows: number, columns: number): void {
    this.process.resizeTerminal(rows, columns);
  }

  processes(): ProcessInfo[] {
    return this.process.processList();
  }

  get core(): Core {
    return this.options.core;
  }

  static start(options: GuestHostOptions, start: StartOptions): ProcessGuest {
    const image = parseElf(start.elf, { symbols: false });
    const ramBytes = start.ramBytes ?? 64 << 20;
    const info = newGuestInfo("process", options.hostName, start, ramBytes);
    if (start.terminal) info.terminal = true;
    const console = new GuestConsole(undefined, start.terminal);
    return new ProcessGuest(options, info, console, (c) => new Kernel({
      core: options.core, image, program: start.elf, ramBytes, root: options.root, argv: start.argv, envp: start.envp ?? [],
      console: c, inputReady: () => c.inputReady(), translate: options.translate, warn: options.warn, guestId: info.id, socketNames: options.socketNames?.(info.id, info.root), sendMessage: options.sendMessage, yieldWanted: options.yieldWanted,
    }));
  }

  /**
   * A process that moved here alone (--children home): a guest of its own,
   * started from its image, whose family stays at `home` (src/kernel/lone-process.ts).
   */
  static adopt(options: GuestHostOptions, start: { id: string; program: string; argv: string[]; ramBytes: number; root: string; image: ProcessImage; home: Home; elf?: Uint8Array }): ProcessGuest {
    const info = newGuestInfo("process", options.hostName, start, start.ramBytes);
    const console = new GuestConsole();
    const emptyImage = { entry: 0, flags: 0, segments: [], symbols: new Map(), phoff: 0, phnum: 0, phentsize: 32 };
    const guest = new ProcessGuest(options, info, console, (c) => new Kernel({
      core: options.core, image: emptyImage, program: start.elf, ramBytes: start.ramBytes, root: options.root, argv: start.argv, envp: [],
      console: c, inputReady: () => c.inputReady(), translate: options.translate, warn: options.warn,
      adopt: { image: start.image, home: start.home }, guestId: info.id, socketNames: options.socketNames?.(info.id, info.root), sendMessage: options.sendMessage, yieldWanted: options.yieldWanted,
    }));
    return guest;
  }

  /**
   * Continues a guest from a snapshot (its RAM, hart, kernel and console state).
   * With `coreReady`, the core is already initialised and its RAM already holds
   * the pages (a migration received them there); only the snapshot's pages are applied on top.
   */
  static restore(
    options: GuestHostOptions,
    snapshot: GuestSnapshot,
    coreReady = false,
    pages?: PostcopyPages,
  ): ProcessGuest {
    checkRestorable(options.core, snapshot, "process", coreReady);
    const info = { ...snapshot.guest, host: options.hostName };
    // A terminal's size is the kernel's (its TerminalState): the console only says it is one.
    const console = new GuestConsole(snapshot.console, info.terminal ? { rows: 24, columns: 80 } : undefined);
    const emptyImage = { entry: 0, flags: 0, segments: [], symbols: new Map(), phoff: 0, phnum: 0, phentsize: 32 };
    const guest = new ProcessGuest(options, info, console, (c) => new Kernel(
      {
        core: options.core, image: emptyImage, ramBytes: info.ramBytes, root: options.root, argv: info.argv, envp: [],
        console: c, inputReady: () => c.inputReady(), translate: options.translate, warn: options.warn, pages, guestId: info.id, socketNames: options.socketNames?.(info.id, info.root), sendMessage: options.sendMessage, yieldWanted: options.yieldWanted,
      },
      {
        state: snapshot.process!,
        coreReady,
        restoreMemory: (core) => restoreHartAndPages(core, snapshot),
      },
    ));
    guest.postcopyPages = pages;
    return guest;
  }

  private postcopyPages: PostcopyPages | undefined;

  get receivingPages(): boolean {
    return this.postcopyPages?.arriving ?? false;
  }

  /**
   * Brings this guest, restored but not started, up to a later snapshot of the
   * same guest; `changed` names the kernel sections that differ (a migration's
   * final state after its prestate).
   */
  update(snapshot: GuestSnapshot, changed: ReadonlySet<string>): void {
    checkRestorable(this.core, snapshot, "process", true);
    this.console.restoreState(snapshot.console);
    this.process.update(snapshot.process!, (core) => restoreHartAndPages(core, snapshot), changed);
    this.filesComeHome();
  }

  run(): Promise<ProcessResult> {
    for (const cap of this.capsHome.splice(0)) this.options.homeFiles?.release(this.info.id, cap);
    return this.process.run();
  }

  get instret(): bigint {
    return this.process.instret;
  }

  get busy(): BusyTime {
    return this.process.busy;
  }

  pause(): void {
    this.process.pause();
  }

  setThrottle(fraction: number): void {
    this.process.pacing.setThrottle(fraction);
  }

  setPace(pace: ((ran: number) => number) | undefined, allowance?: () => number): void {
    this.process.pacing.setPace(pace, allowance);
  }

  expectFreeze(soon: boolean): void {
    this.process.pacing.expectFreeze(soon);
  }

  kill(): void {
    this.process.stop("killed", 137);
  }

  interrupt(): void {
    this.process.interrupt();
  }

  /** Everything but RAM pages, which the caller adds (all of them, or what migration has not sent). */
  snapshotWithout(ram: GuestSnapshot["ram"]): GuestSnapshot {
    const process = this.process.state();
    // Files open here stay here: after the move this host serves them, to
    // this guest only, through the capability it issues for each.
    const { hostUrl, homeFiles } = this.options;
    if (hostUrl && homeFiles) {
      for (const file of process.openFiles.files) {
        // Devices, the virtual /dev and the base layer are everywhere the same: they need no home.
        if (file.home || (file.kind !== "file" && file.kind !== "directory") || file.path === "/dev" || inBaseLayer(this.options.root, file.path)) continue;
        file.home = hostUrl;
        file.cap = homeFiles.issue(this.info.id, file.id, file);
      }
    }
    return {
      version: 1,
      guest: { ...this.info, host: this.options.hostName },
      hart: hartBlock(this.core),
      ram,
      console: this.console.state(),
      process,
    };
  }

  /** A complete snapshot: take it while paused. */
  snapshot(): GuestSnapshot {
    return this.snapshotWithout(allRamPages(this.core, this.info.ramBytes));
  }
}
