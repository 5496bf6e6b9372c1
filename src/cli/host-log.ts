// A host's log, as daemons write theirs: every line starts with an ISO 8601
// time and a level, so it can be grepped, sorted and merged with other hosts'
// logs. `2026-12-04T12:00:00.000Z info  [A] guest g1 arrived`.

export type Level = "info" | "warn" | "error";

export interface HostLog {
  /** A line from src/cluster/host.ts; without a level, one is read from its words. */
  line(text: string, level?: Level): void;
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

// host.ts says what happened in plain words; these decide how loud it is.
const LIFECYCLE = /^(host|guest) \S+ (listening|arrived|started|restored|exited|killed|moved|migrated|checkpointed|stopping|stopped)\b/;
const FAILURE = /^error\b|\bfailed\b/i;

export function levelOf(text: string): Level {
  if (FAILURE.test(text)) return "error";
  if (LIFECYCLE.test(text)) return "info";
  return "warn"; // a guest's warnings (an unsupported system call) and anything unforeseen
}

export function hostLog(name: string, write: (text: string) => void, now: () => Date = () => new Date()): HostLog {
  const emit = (level: Level, text: string) => {
    const prefix = `${now().toISOString()} ${level.padEnd(5)} [${name}] `;
    // A stack trace stays one record per line, each with its time and level.
    write(text.split("\n").map((line) => prefix + line).join("\n") + "\n");
  };
  return {
    line: (text, level) => emit(level ?? levelOf(text), text),
    info: (text) => emit("info", text),
    warn: (text) => emit("warn", text),
    error: (text) => emit("error", text),
  };
}
