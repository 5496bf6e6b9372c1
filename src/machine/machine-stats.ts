import { describeStats, type TranslatorStats } from "../jit/translator-stats.js";
import {
  EXIT_BREAKPOINT,
  EXIT_BUDGET,
  EXIT_HOST_TRAP,
  EXIT_MMIO,
  EXIT_PAGE_MISSING,
  EXIT_WATCH,
  EXIT_WFI,
} from "../../assembly/layout.js";
import { nowMs } from "./host-clock.js";

// Counters for `roam boot --stats`: how much ran, how fast, and why the core
// handed control back to the host (each exit costs a WASM→JS round trip, so the
// counts show where host time goes).

const EXIT_NAMES: Record<number, string> = {
  [EXIT_BUDGET]: "budget",
  [EXIT_HOST_TRAP]: "host-trap",
  [EXIT_MMIO]: "mmio",
  [EXIT_PAGE_MISSING]: "page-missing",
  [EXIT_WFI]: "wfi",
  [EXIT_WATCH]: "watch",
  [EXIT_BREAKPOINT]: "breakpoint",
};

export function exitName(reason: number): string {
  return EXIT_NAMES[reason] ?? `unknown(${reason})`;
}

export class MachineStats {
  readonly exits = new Map<string, number>();
  runCalls = 0;
  sleeps = 0;
  sleptMs = 0;
  pagesFetched = 0; // missing pages filled from the page source
  private readonly startedMs = nowMs();
  private stoppedMs: number | undefined;

  countExit(reason: number): void {
    this.runCalls++;
    const name = exitName(reason);
    this.exits.set(name, (this.exits.get(name) ?? 0) + 1);
  }

  countSleep(ms: number): void {
    this.sleeps++;
    this.sleptMs += ms;
  }

  stop(): void {
    this.stoppedMs ??= nowMs();
  }

  get wallMs(): number {
    return (this.stoppedMs ?? nowMs()) - this.startedMs;
  }

  // One line per fact, for stderr.
  /** `translatedRetired`: the instructions translated code retired (Translator.translatedRetired), with `translation`. */
  format(instret: bigint, translation?: TranslatorStats, translatedRetired?: number): string {
    const instructions = Number(instret);
    const wallSeconds = this.wallMs / 1000;
    const busySeconds = Math.max(this.wallMs - this.sleptMs, 0) / 1000;
    const mips = (seconds: number) => (seconds > 0 ? (instructions / seconds / 1e6).toFixed(1) : "-");
    const exits = [...this.exits.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => `${name} ${count}`)
      .join(", ");
    return [
      `instructions retired: ${instructions}`,
      `wall time: ${wallSeconds.toFixed(3)} s (${(this.sleptMs / 1000).toFixed(3)} s asleep in wfi, ${this.sleeps} sleeps)`,
      `speed: ${mips(wallSeconds)} MIPS overall, ${mips(busySeconds)} MIPS while running`,
      `run() calls: ${this.runCalls}; exits: ${exits || "none"}`,
      ...(this.pagesFetched ? [`pages fetched on touch: ${this.pagesFetched}`] : []),
      ...(translation ? [describeStats(translation, instructions, translatedRetired)] : []),
    ].join("\n");
  }
}
