// A guest's job is the user's: when it stops (Ctrl-Z on the guest's terminal, a SIGSTOP), the roam process that
// shows it stops too, so the user's shell says "Stopped" and has its terminal back; continued (`fg`, `bg`), it takes
// its terminal mode again and continues the guest's job. `roam run` (run-command.ts) and an attached client
// (cluster-commands.ts) both do so.

const SIGSTOP = 19;

export interface HeldTerminalMode {
  /** The host terminal's mode as the user's shell left it. */
  release(): void;
  /** The mode the guest wants back (raw). */
  resume(): void;
}

/**
 * After the current event (the guest is at rest between slices, or a host's message is handled): gives the terminal
 * back, stops this process with the job's signal (SIGSTOP stays SIGSTOP; the others are SIGTSTP, which a shell
 * reports as Stopped), and once continued takes the terminal again and runs `continueJob`.
 */
export function stopWithJob(sig: number, terminal: HeldTerminalMode, continueJob: () => void): void {
  setImmediate(() => {
    terminal.release();
    try {
      process.kill(process.pid, sig === SIGSTOP ? "SIGSTOP" : "SIGTSTP"); // returns once continued
    } finally {
      terminal.resume();
    }
    continueJob();
  });
}
