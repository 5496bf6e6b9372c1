import { EXIT_BUDGET, EXIT_PAGE_MISSING } from "../../assembly/layout.js";

// Counts the work a hart does, for `--max-instructions` and for spotting a trap
// storm. Retired instructions alone do not bound a run: a hart whose trap
// handler is missing (mtvec = 0, or a handler that faults again at once) traps
// forever and retires nothing. So each slice is charged at least what it cost:
// a slice that spent its budget is charged the whole budget (the core counts a
// trap as a dispatch), any other exit at least one unit.

/** Work without a retired instruction after which the hart is stuck for good (a few seconds of storm at most). */
export const STORM_UNITS = 1 << 24;
/** An exit that retired nothing costs the host about as much as this many dispatches. */
const EXIT_UNITS = 16;

export class WorkMeter {
  /** Units charged so far: retired instructions plus the work of slices that retired fewer than they cost. */
  spent = 0;
  /** Work, in units, since the hart last retired an instruction. */
  private withoutProgress = 0;
  /** Traps (lost dispatches, exits that retired nothing) since a slice last retired more than it lost. */
  stormTraps = 0;
  /** Instructions retired meanwhile. */
  stormRetired = 0;

  /** Charges one core.run(budget) that retired `retired` instructions and ended with `reason`. */
  charge(reason: number, budget: number, retired: number): void {
    if (reason === EXIT_PAGE_MISSING && retired === 0) return; // waiting for a page is not work
    const spentBudget = reason === EXIT_BUDGET;
    this.spent += spentBudget ? Math.max(retired, budget) : Math.max(retired, 1);
    this.withoutProgress = retired > 0 ? 0 : this.withoutProgress + (spentBudget ? budget : EXIT_UNITS);
    // A slice that spent its budget lost (budget - retired) dispatches to traps.
    const lost = spentBudget ? Math.max(budget - retired, 0) : retired === 0 ? 1 : 0;
    this.countTraps(lost, retired);
  }

  /** Charges a trap the host handled without retiring anything (process mode: a page fault it mapped). */
  chargeTrap(): void {
    this.spent += 1;
    this.withoutProgress += EXIT_UNITS;
    this.countTraps(1, 0);
  }

  private countTraps(lost: number, retired: number): void {
    if (retired > lost) {
      this.stormTraps = this.stormRetired = 0;
      return;
    }
    this.stormTraps += lost;
    this.stormRetired += retired;
  }

  /** The hart has retired nothing for so long that it never will: every trap only traps again. */
  get storming(): boolean {
    return this.withoutProgress >= STORM_UNITS;
  }

  /** The last slices were mostly traps (a limit report then says so). */
  get stalled(): boolean {
    return this.stormTraps > this.stormRetired;
  }

  /** "N traps, R instructions retired", for a report. */
  describeStorm(): string {
    return `${this.stormTraps} traps, ${this.stormRetired} instructions retired`;
  }
}
