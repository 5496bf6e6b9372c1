// Which guest moves: by age, as Harchol-Balter & Downey argue — a process that
// has run long is likely to run long yet, so moving it pays back, while most
// young ones end before their move would. A guest is a candidate once its age
// exceeds the cost of moving it (the pages it ever wrote, plus what it dirties
// while they stream, at the page rate, plus a fixed setup), and once it has
// stayed here MIN_RESIDENCE_MS: two load vectors, so the vectors count it where
// it is before it is weighed again (the hysteresis in where.ts is what keeps
// it from ping-ponging). It was 5 s, longer than most guests live, which left
// the policies only the guests already stuck on slow hosts, and late
// (bench:balance's decisions: moves at ages 5.5-11 s). Among candidates the oldest goes first; between equals, the
// smaller RAM and the lower dirty rate.

/** What `which` knows of a guest that could move. */
export interface MovableGuest {
  id: string;
  /** Seconds since it first started (anywhere). */
  ageSeconds: number;
  /** Seconds since it came to this host (started, arrived or restored here). */
  residentSeconds: number;
  ramBytes: number;
  /** Its RAM's pages ever written, in bytes: what a move must send (the rest goes as zero-page notes); ramBytes when unknown. */
  writtenBytes?: number;
  dirtyBytesPerSecond: number;
  requires: string[];
  /** Labels it prefers (`--prefer`): it is moved to a host with them when one has room (preference.ts). */
  prefers: string[];
}

export const MIN_RESIDENCE_MS = 1000;
const MOVE_BYTES_PER_SECOND = 1e9; // pages stream at ~1.2 GB/s between hosts here (README)
const MOVE_SETUP_SECONDS = 0.05;

/** What moving a guest costs, in seconds of the cluster's time. */
export function moveCostSeconds(g: MovableGuest): number {
  return MOVE_SETUP_SECONDS + ((g.writtenBytes ?? g.ramBytes) + g.dirtyBytesPerSecond * 0.1) / MOVE_BYTES_PER_SECOND;
}

/** The guests worth moving, best first, each with why; the others are left out. */
export function whichGuests(guests: MovableGuest[]): Array<{ guest: MovableGuest; reason: string }> {
  return guests
    .filter((g) => g.residentSeconds * 1000 >= MIN_RESIDENCE_MS && g.ageSeconds > moveCostSeconds(g))
    .sort((a, b) => b.ageSeconds - a.ageSeconds || a.ramBytes - b.ramBytes || a.dirtyBytesPerSecond - b.dirtyBytesPerSecond)
    .map((g) => ({ guest: g, reason: `age ${g.ageSeconds.toFixed(1)} s > move cost ${moveCostSeconds(g).toFixed(2)} s, here ${g.residentSeconds.toFixed(1)} s` }));
}
