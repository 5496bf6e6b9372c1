// A program on a pseudo-terminal, typed at as a person would: script(1) (util-linux, on every Debian machine) runs the
// command on a new pty, and each step's keys are written once the screen shows the step's cue since the last one
// (never after a guessed delay). What the screen showed comes back whole, with the exit status (script -e).
import { spawn } from "node:child_process";

export interface Step {
  /** Text the screen must show (after the previous step's cue) before the keys are typed. */
  after: string;
  keys: string;
  /** Done first, once the cue is there (a migration, say): the keys and the next steps wait for it. */
  then?: (screen: string) => Promise<void>;
}

export interface Session {
  screen: string;
  status: number | null;
  /** The steps whose cue never came (the session ended or was killed first). */
  missed: Step[];
}

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `argv` on a pty until it ends; `limitMs` bounds a hung session (killed, its screen returned), it is not a
 * wait for anything.
 */
export function ptySession(argv: string[], steps: Step[], options: { cwd?: string; env?: NodeJS.ProcessEnv; limitMs?: number } = {}): Promise<Session> {
  const child = spawn("script", ["-qfec", argv.map(shellQuote).join(" "), "/dev/null"], { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  let seen = 0; // where the next cue is looked for
  let next = 0;
  const killer = setTimeout(() => child.kill("SIGKILL"), options.limitMs ?? 60_000);
  let acting = false; // a step's action runs: the steps after it wait
  let failed: unknown;
  const advance = (): void => {
    while (!acting && next < steps.length) {
      const step = steps[next];
      const at = screen.indexOf(step.after, seen);
      if (at < 0) return;
      seen = at + step.after.length;
      next++;
      if (step.then) {
        acting = true;
        step.then(screen).then(() => { acting = false; child.stdin.write(step.keys); advance(); }, (error) => { failed = error; child.kill("SIGKILL"); });
        return;
      }
      child.stdin.write(step.keys);
    }
  };
  child.stdout.on("data", (chunk: Buffer) => {
    screen += chunk.toString("latin1");
    advance();
  });
  child.stdin.on("error", () => {}); // the session ended with keys still to type: `missed` says so
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(killer);
      if (failed !== undefined) reject(failed);
      else resolve({ screen, status, missed: steps.slice(next) });
    });
  });
}

/** A screen as a test shows it: one line per line, control bytes visible. */
export const printable = (screen: string) => JSON.stringify(screen).replace(/\\r\\n/g, "\\r\\n\n");
