// The memwalk guest the cluster fault tests move around (2 MiB, an eighth rewritten a round, 1 MB/s, until a stop file
// appears), and how such a test ends: the guest stopped, its whole output exactly an undisturbed run's.
import { writeFileSync } from "node:fs";
import { expect } from "vitest";
import { memwalkOutput, memwalkRounds } from "../process-cases.js";
import type { Followed } from "./cluster.js";

/** memwalk's arguments for that guest; it ends when `stopFile` (a path in the guest's root) exists. */
export const memwalkArgs = (stopFile: string): string[] => ["--mib", "2", "--fraction", "0.125", "--rounds", "0", "--rate", "1", "--until", stopFile];

/** Stops the guest (writes `stopPath`, the stop file on the host) and checks it ended with exactly an undisturbed run's output. */
export async function endsIntact(followed: Followed, stopPath: string): Promise<void> {
  writeFileSync(stopPath, "");
  const exit = await Promise.race([followed.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 60_000, undefined))]);
  expect(exit, "G to end").toBeDefined();
  const text = followed.output().toString();
  expect(text).toBe(memwalkOutput(2, "0.125", 0, "1", memwalkRounds(text)));
  expect(exit!.code, text.slice(-300)).toBe(0);
}
