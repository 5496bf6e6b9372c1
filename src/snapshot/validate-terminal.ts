// The terminal's line discipline in a snapshot (src/kernel/terminal.ts: TerminalState): its settings, its
// foreground group and session, and the input typed and not yet read, each bounded as the kernel bounds it.

import { NCCS, type TerminalState } from "../kernel/terminal.js";
import { bad, bool, bytes, int, list, own, record, schemaVersion, u32 } from "./schema.js";

/** A line being edited is at most 4095 bytes (termios(3)); lines ended and not read, as many as a terminal queues. */
const MAX_LINE = 4096;
const MAX_PIECES = 4096;
const MAX_QUEUED = 1 << 20;

export function checkTerminal(value: unknown, at: string): TerminalState | undefined {
  if (value === undefined) return undefined; // no terminal: stdin was not one
  const m = record(value, at);
  schemaVersion(m, at, 1);
  const t = record(own(m, "termios"), `${at}.termios`);
  const cc = bytes(own(t, "cc"), `${at}.termios.cc`);
  if (cc.length !== NCCS) bad(`${at}.termios.cc`, `${cc.length} control characters where a termios has ${NCCS}`);
  const editing = bytes(own(m, "editing"), `${at}.editing`);
  if (editing.length > MAX_LINE) bad(`${at}.editing`, `a line of ${editing.length} bytes, over the terminal's ${MAX_LINE}`);
  let queued = 0;
  const pieces = list(own(m, "pieces"), `${at}.pieces`, MAX_PIECES).map((entry, i) => {
    const p = record(entry, `${at}.pieces[${i}]`);
    const pieceBytes = bytes(own(p, "bytes"), `${at}.pieces[${i}].bytes`);
    queued += pieceBytes.length;
    if (queued > MAX_QUEUED) bad(`${at}.pieces`, `more than ${MAX_QUEUED} bytes of input queued`);
    return { bytes: pieceBytes, ended: bool(own(p, "ended"), `${at}.pieces[${i}].ended`) };
  });
  return {
    schemaVersion: 1,
    termios: {
      iflag: u32(own(t, "iflag"), `${at}.termios.iflag`), oflag: u32(own(t, "oflag"), `${at}.termios.oflag`),
      cflag: u32(own(t, "cflag"), `${at}.termios.cflag`), lflag: u32(own(t, "lflag"), `${at}.termios.lflag`),
      line: int(own(t, "line"), `${at}.termios.line`, 0, 255), cc,
    },
    foreground: int(own(m, "foreground"), `${at}.foreground`, 0, 0x7fffffff),
    session: int(own(m, "session"), `${at}.session`, 0, 0x7fffffff),
    rows: int(own(m, "rows"), `${at}.rows`, 0, 0xffff),
    columns: int(own(m, "columns"), `${at}.columns`, 0, 0xffff),
    editing,
    pieces,
    hungUp: bool(own(m, "hungUp"), `${at}.hungUp`),
  };
}
