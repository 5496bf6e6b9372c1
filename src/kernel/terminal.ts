// The guest's terminal: Linux's line discipline (n_tty) between the keyboard and
// a program reading its terminal. When `roam run`'s stdin is a terminal, the
// host's terminal is put in raw mode and every byte typed comes here, as an ssh
// client hands its keys to the server's pseudo-terminal: this is where a line is
// edited (erase, kill, word erase), echoed, and made readable at its newline;
// where Ctrl-C, Ctrl-\ and Ctrl-Z become SIGINT, SIGQUIT and SIGTSTP for the
// foreground process group; and what tcsetattr changes (termios(3)), so a
// shell's line editor, a pager or an editor gets the raw keys it asks for.
// The terminal's settings, the foreground group and the input not yet read are
// the guest's, plain data in its state (TerminalState). The ioctls and the job
// control checks (a background process reading gets SIGTTIN) are
// calls/terminal.ts's.
//
// Not done, and why: output processing (OPOST, ONLCR) stays the host
// terminal's, which raw mode keeps converting "\n" to "\r\n" (a program that
// turns OPOST off writes "\r\n" itself, which shows the same); flow control
// (IXON: Ctrl-S and Ctrl-Q are taken and do nothing); a tab's erase moves back
// one column.

import { SIGINT, SIGQUIT, SIGTSTP } from "./signals.js";

/** termios(3)'s c_iflag bits used here. */
export const IGNCR = 0o200, ICRNL = 0o400, INLCR = 0o100, ISTRIP = 0o40, IXON = 0o2000, IUCLC = 0o1000, IUTF8 = 0o40000;
/** c_lflag bits. */
export const ISIG = 0o1, ICANON = 0o2, ECHO = 0o10, ECHOE = 0o20, ECHOK = 0o40, ECHONL = 0o100, NOFLSH = 0o200,
  TOSTOP = 0o400, ECHOCTL = 0o1000, ECHOKE = 0o4000, IEXTEN = 0o100000;
/** c_cc indices (asm-generic/termbits.h). */
export const VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSTART = 8, VSTOP = 9, VSUSP = 10,
  VEOL = 11, VREPRINT = 12, VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
export const NCCS = 19;

/** "The maximum line length is 4096 chars (including the terminating newline character)" (termios(3)). */
const MAX_CANON = 4095;
const DISABLED = 0; // _POSIX_VDISABLE: a c_cc slot of 0 matches no key

export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  line: number;
  cc: Uint8Array; // NCCS bytes
}

/** Linux's tty_std_termios: cooked mode, echo, signals from Ctrl-C, Ctrl-\ and Ctrl-Z; 38400 baud, 8 bits. */
export function defaultTermios(): Termios {
  return {
    iflag: ICRNL | IXON, oflag: 0o5 /* OPOST | ONLCR */, cflag: 0o277 /* B38400 | CS8 | CREAD | HUPCL */,
    lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN, line: 0,
    // INIT_C_CC: ^C ^\ DEL ^U ^D, time 0, min 1, -, ^Q ^S ^Z, -, ^R ^O ^W ^V, -
    cc: Uint8Array.from([3, 0o34, 0o177, 0o25, 4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0, 0, 0]),
  };
}

/** A terminal's state as a snapshot carries it. */
export interface TerminalState {
  schemaVersion: 1;
  termios: Termios;
  /** The process group reading and getting the keyboard's signals (tcgetpgrp), and the session it is the terminal of. */
  foreground: number;
  session: number;
  rows: number;
  columns: number;
  /** The line being edited (canonical mode), and the input that can be read: lines ended, or raw bytes. */
  editing: Uint8Array;
  pieces: Array<{ bytes: Uint8Array; ended: boolean }>;
  /** The host's terminal is gone (its input ended): reads return 0, as after a hangup. */
  hungUp: boolean;
}

/** What the line discipline needs of the kernel and the host. */
export interface TerminalHost {
  /** Echo: the bytes go to the terminal's screen at once. */
  echo(bytes: Uint8Array): void;
  /** The keyboard's signal (Ctrl-C...) for every process of the group. */
  signalGroup(pgid: number, sig: number): void;
  /** Input became readable (a line ended, a byte came in raw mode, the terminal hung up): readers run again. */
  readable(): void;
}

/** A piece of input that can be read: a line (ended: a read stops at its end) or bytes typed in raw mode. */
interface Piece {
  bytes: number[];
  ended: boolean;
}

export class Terminal {
  termios: Termios = defaultTermios();
  foreground: number;
  session: number;
  rows = 24;
  columns = 80;
  hungUp = false;
  private editing: number[] = [];
  private pieces: Piece[] = [];
  /** Ctrl-V came: the next byte is taken as it is. */
  private literalNext = false;

  constructor(private readonly host: TerminalHost, session: number) {
    this.session = session;
    this.foreground = session;
  }

  state(): TerminalState {
    return {
      schemaVersion: 1, termios: { ...this.termios, cc: Uint8Array.from(this.termios.cc) }, foreground: this.foreground, session: this.session,
      rows: this.rows, columns: this.columns, editing: Uint8Array.from(this.editing),
      pieces: this.pieces.map((p) => ({ bytes: Uint8Array.from(p.bytes), ended: p.ended })), hungUp: this.hungUp,
    };
  }

  static restore(host: TerminalHost, s: TerminalState): Terminal {
    const t = new Terminal(host, s.session);
    t.load(s);
    return t;
  }

  /** Takes a snapshot's state (a restore, or a later round of a migration's). */
  load(s: TerminalState): void {
    if (s.schemaVersion !== 1) throw new Error(`terminal state: unknown schema version ${s.schemaVersion}`);
    this.termios = { ...s.termios, cc: Uint8Array.from(s.termios.cc) };
    this.foreground = s.foreground;
    this.session = s.session;
    this.rows = s.rows;
    this.columns = s.columns;
    this.editing = [...s.editing];
    this.pieces = s.pieces.map((p) => ({ bytes: [...p.bytes], ended: p.ended }));
    this.hungUp = s.hungUp;
  }

  private get canonical(): boolean {
    return (this.termios.lflag & ICANON) !== 0;
  }

  // ---- Keys in ----------------------------------------------------------------------------------------------------

  /** Bytes typed on the host's terminal. */
  receive(bytes: Uint8Array): void {
    const before = this.readableNow();
    for (const byte of bytes) this.receiveByte(byte);
    this.flushEcho();
    if (!before && this.readableNow()) this.host.readable();
  }

  /** The host's terminal went away: a read returns 0 (end of file) from now on. */
  hangUp(): void {
    this.hungUp = true;
    this.host.readable();
  }

  private receiveByte(byte: number): void {
    const { iflag, lflag, cc } = this.termios;
    let c = iflag & ISTRIP ? byte & 0x7f : byte;
    if (this.literalNext) {
      this.literalNext = false;
      this.take(c, true);
      return;
    }
    if (c === 13 && iflag & IGNCR) return;
    if (c === 13 && iflag & ICRNL) c = 10;
    else if (c === 10 && iflag & INLCR) c = 13;
    if (iflag & IUCLC && c >= 65 && c <= 90) c += 32;
    if (lflag & ISIG) {
      const sig = c === cc[VINTR] ? SIGINT : c === cc[VQUIT] ? SIGQUIT : c === cc[VSUSP] ? SIGTSTP : 0;
      if (sig && c !== DISABLED) { this.keyboardSignal(sig, c); return; }
    }
    // "IXON: Enable XON/XOFF flow control on output": the keys are the terminal's, not the program's.
    if (iflag & IXON && c !== DISABLED && (c === cc[VSTOP] || c === cc[VSTART])) return;
    if (lflag & IEXTEN && c === cc[VLNEXT] && c !== DISABLED) {
      this.literalNext = true;
      if (lflag & ECHO) this.echo([0x5e, 8]); // "^" then back over it, as Linux shows it
      return;
    }
    if (this.canonical && this.edit(c)) return;
    this.take(c, false);
  }

  /** "When any of the characters INTR, QUIT, SUSP, or DSUSP are received, generate the corresponding signal." */
  private keyboardSignal(sig: number, c: number): void {
    // "flush the input and output queues": with them the echo of what came in the same chunk, not yet shown (Linux's
    // n_tty shows a chunk's echoes as it ends, and its flush resets them).
    if (!(this.termios.lflag & NOFLSH)) { this.editing = []; this.pieces = []; this.pendingEcho = []; }
    if (this.termios.lflag & ECHO) this.echo(this.shown(c));
    this.host.signalGroup(this.foreground, sig);
  }

  /** Canonical mode's editing keys; true when `c` was one of them. */
  private edit(c: number): boolean {
    const { lflag, cc } = this.termios;
    if (c === DISABLED) return false;
    if (c === cc[VERASE]) { this.eraseLast(); return true; }
    if (c === cc[VKILL]) {
      if (lflag & ECHO && lflag & ECHOKE) while (this.editing.length) this.eraseLast();
      else {
        this.editing = [];
        if (lflag & ECHO) this.echo(lflag & ECHOK ? [...this.shown(c), 10] : this.shown(c));
      }
      return true;
    }
    if (lflag & IEXTEN && c === cc[VWERASE]) {
      while (this.editing.length && isBlank(this.editing[this.editing.length - 1])) this.eraseLast();
      while (this.editing.length && !isBlank(this.editing[this.editing.length - 1])) this.eraseLast();
      return true;
    }
    if (lflag & IEXTEN && c === cc[VREPRINT]) {
      if (lflag & ECHO) this.echo([...this.shown(c), 10, ...this.editing.flatMap((b) => this.shown(b))]);
      return true;
    }
    if (c === cc[VEOF]) { this.endLine(); return true; } // "the pending tty input is made available ... without the EOF"
    return false;
  }

  /** A byte for the program: into the line being edited (canonical mode) or readable at once. */
  private take(c: number, literal: boolean): void {
    const { lflag, cc } = this.termios;
    const endsLine = !literal && (c === 10 || (c !== DISABLED && (c === cc[VEOL] || c === cc[VEOL2])));
    if (!this.canonical) {
      if (lflag & ECHO) this.echo(this.shown(c));
      const last = this.pieces[this.pieces.length - 1];
      if (last && !last.ended) last.bytes.push(c);
      else this.pieces.push({ bytes: [c], ended: false });
      return;
    }
    if (!endsLine && this.editing.length >= MAX_CANON) return; // the line is full: Linux drops the key
    this.editing.push(c);
    if (lflag & ECHO || (c === 10 && lflag & ECHONL)) this.echo(c === 10 ? [10] : this.shown(c));
    if (endsLine) this.endLine();
  }

  private endLine(): void {
    this.pieces.push({ bytes: this.editing, ended: true });
    this.editing = [];
  }

  private eraseLast(): void {
    let gone = this.editing.pop();
    // IUTF8: "the input is UTF-8; this allows character-erase to be correctly performed": a character, not a byte.
    if (this.termios.iflag & IUTF8) while (gone !== undefined && (gone & 0xc0) === 0x80 && this.editing.length) gone = this.editing.pop();
    if (gone === undefined || !(this.termios.lflag & ECHO)) return;
    const width = this.shown(gone).length;
    if (this.termios.lflag & ECHOE) this.echo(Array(width).fill([8, 32, 8]).flat());
    else this.echo(this.shown(this.termios.cc[VERASE]));
  }

  /** How a byte is echoed: "ECHOCTL: ... echoed as ^X, where X is the character with ASCII code 0x40 greater". */
  private shown(c: number): number[] {
    if (this.termios.lflag & ECHOCTL && (c < 32 || c === 127) && c !== 9 && c !== 10) return [0x5e, c === 127 ? 0x3f : c + 0x40];
    return [c];
  }

  /** Echo of the chunk being received, shown as the chunk ends. */
  private pendingEcho: number[] = [];

  private echo(bytes: number[]): void {
    this.pendingEcho.push(...bytes);
  }

  private flushEcho(): void {
    if (this.pendingEcho.length === 0) return;
    this.host.echo(Uint8Array.from(this.pendingEcho));
    this.pendingEcho = [];
  }

  // ---- Reads --------------------------------------------------------------------------------------------------------

  /** Whether a read would take something now (or return 0, hung up or at a Ctrl-D): what poll(2) reports. */
  readableNow(): boolean {
    if (this.hungUp) return true;
    if (!this.canonical && this.termios.cc[VMIN] === 0) return true; // "MIN == 0 ... returns immediately"
    return this.pieces.length > 0;
  }

  /** FIONREAD: bytes a read could take (canonical mode: lines ended only). */
  queuedBytes(): number {
    return this.pieces.reduce((n, p) => n + p.bytes.length, 0);
  }

  /**
   * A read of up to `max` bytes: the bytes, an empty array (end of file: a Ctrl-D at the start of a line, a hangup, or
   * raw mode's MIN 0 with nothing typed), or null when the reader must wait.
   * Canonical mode: "a read returns at most one line of input". Raw mode: what is there once MIN bytes are (VTIME's
   * timer is not kept: with MIN > 0, a read returns once a byte is there and MIN are, or TIME is set).
   */
  read(max: number): Uint8Array | null {
    if (max === 0) return new Uint8Array(0);
    if (this.pieces.length === 0) {
      if (this.hungUp || (!this.canonical && this.termios.cc[VMIN] === 0)) return new Uint8Array(0);
      return null;
    }
    if (this.canonical) return this.takeFrom(this.pieces[0], max);
    const min = Math.min(this.termios.cc[VMIN], max);
    if (this.queuedBytes() < min && this.termios.cc[VTIME] === 0) return null;
    const out: number[] = [];
    while (out.length < max && this.pieces.length) out.push(...this.takeFrom(this.pieces[0], max - out.length));
    return Uint8Array.from(out);
  }

  private takeFrom(piece: Piece, max: number): Uint8Array {
    const taken = piece.bytes.splice(0, max);
    if (piece.bytes.length === 0) this.pieces.shift();
    return Uint8Array.from(taken);
  }

  /** TCIFLUSH: "flushes data received but not read". */
  flushInput(): void {
    this.editing = [];
    this.pieces = [];
  }

  /** tcsetattr: canonical mode turned off makes the line being edited readable, as Linux's n_tty_set_termios does. */
  setTermios(next: Termios): void {
    const wasCanonical = this.canonical;
    this.termios = next;
    if (wasCanonical && !this.canonical && this.editing.length) {
      this.pieces.push({ bytes: this.editing, ended: false });
      this.editing = [];
    }
    if (this.readableNow()) this.host.readable();
  }
}

const isBlank = (c: number) => c === 32 || c === 9;
