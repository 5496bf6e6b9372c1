// A host's load vector: what it tells the other members of its cluster about
// itself every exchange (src/cluster/membership.ts), as MOSIX's load vectors
// do. Measured here over the time since the previous vector.

import { speedOf } from "./balance/speed.js";
import { SpeedEstimate } from "./speed-estimate.js";
import { nowMs } from "../machine/host-clock.js";

/** One host's capacity and load, as the cluster exchange carries it. */
export interface LoadVector {
  url: string;
  name: string;
  /** When the host started (ms since the epoch): a restarted host's vectors supersede its old ones. */
  incarnation: number;
  /** Grows with each vector the host makes: the newest (incarnation, seq) is the truth about it. */
  seq: number;
  /** --capacity: instructions per second it gives its guests at most; null when it uses what it gets. */
  capacity: number | null;
  /**
   * Instructions per second a guest retires here while it runs (speed-estimate.ts: measured over the time spent
   * running guests, smoothed); null until it has run one. What it gives is the least of this and its capacity.
   */
  speed: number | null;
  /** --label: what it offers (secure, gpu, ...); a guest's requirements must be among them. */
  labels: string[];
  guests: number; // live (running or frozen)
  runnable: number; // retired instructions since the last vector
  ipsGiven: number; // instructions per second its guests retired
  ipsWanted: number; // what they would have retired without the --capacity cap
  memoryUsed: number; // guest RAM committed, bytes
  memoryFree: number; // what --max-memory leaves
  /** Bytes per second the guests here dirtied when last measured (by a precopy round), summed; 0 when never measured. */
  dirtyBytesPerSecond: number;
  messagesPerSecond: number; // guest messages sent and received here
  /** Data bytes per second guests here exchanged with other hosts (messages, remote files): what locality reduces. */
  crossingBytesPerSecond: number;
}

/** What a host lets the meter read. */
export interface LoadSource {
  /** The live guests: id, instructions retired so far, what they retired running flat out and in how long (counters), last measured dirty rate (bytes/s) if any. */
  guests(): Array<{ id: string; instret: bigint; busy?: { instructions: number; ms: number }; dirtyBytesPerSecond?: number }>;
  memoryUsed(): number;
  memoryLimit(): number;
  /** Messages sent and received by guests here so far (a counter). */
  messages(): number;
  /** Data bytes guests here exchanged with other hosts so far (a counter). */
  crossingBytes?(): number;
  /** Instructions the cap held back so far, as instructions the guests wanted (a counter); undefined without a cap. */
  wantedInstructions?(): number;
  capacity: number | null;
  labels: string[];
}

/** Turns counters into rates between two successive vectors. */
export class LoadMeter {
  private lastAt = nowMs();
  private lastInstret = new Map<string, bigint>();
  private lastBusy = new Map<string, { instructions: number; ms: number }>();
  private readonly speed = new SpeedEstimate();
  private lastMessages = 0;
  private lastCrossing = 0;
  private lastWanted = 0;
  private seq = 0;
  readonly incarnation = Date.now();

  constructor(private readonly source: LoadSource) {
    this.lastMessages = source.messages();
    this.lastCrossing = source.crossingBytes?.() ?? 0;
    this.lastWanted = source.wantedInstructions?.() ?? 0;
  }

  /** A new vector; rates are over the time since the previous one. */
  next(url: string, name: string): LoadVector {
    const now = nowMs();
    const seconds = Math.max((now - this.lastAt) / 1000, 1e-3);
    const guests = this.source.guests();
    let retired = 0;
    let runnable = 0;
    let dirty = 0;
    let busyInstructions = 0, busyMs = 0;
    const instret = new Map<string, bigint>();
    const busy = new Map<string, { instructions: number; ms: number }>();
    for (const g of guests) {
      instret.set(g.id, g.instret);
      const before = this.lastInstret.get(g.id);
      const ran = before === undefined ? 0 : Number(g.instret - before);
      if (ran > 0) { retired += ran; runnable++; }
      dirty += g.dirtyBytesPerSecond ?? 0;
      if (!g.busy) continue;
      busy.set(g.id, { ...g.busy });
      const was = this.lastBusy.get(g.id) ?? { instructions: 0, ms: 0 }; // a guest new here: all it ran here so far
      busyInstructions += g.busy.instructions - was.instructions;
      busyMs += g.busy.ms - was.ms;
    }
    this.lastBusy = busy;
    const speed = this.speed.update(busyInstructions, busyMs, seconds);
    const messages = this.source.messages();
    const wanted = this.source.wantedInstructions?.();
    const ipsGiven = retired / seconds;
    const ipsWanted = wanted === undefined ? ipsGiven : Math.max(ipsGiven, (wanted - this.lastWanted) / seconds);
    const messagesPerSecond = (messages - this.lastMessages) / seconds;
    const crossing = this.source.crossingBytes?.() ?? 0;
    const crossingBytesPerSecond = (crossing - this.lastCrossing) / seconds;
    this.lastCrossing = crossing;
    this.lastAt = now;
    this.lastInstret = instret;
    this.lastMessages = messages;
    this.lastWanted = wanted ?? 0;
    const used = this.source.memoryUsed();
    return {
      url, name, incarnation: this.incarnation, seq: ++this.seq, capacity: this.source.capacity, speed, labels: this.source.labels,
      guests: guests.length, runnable, ipsGiven: Math.round(ipsGiven), ipsWanted: Math.round(ipsWanted),
      memoryUsed: used, memoryFree: Math.max(0, this.source.memoryLimit() - used), dirtyBytesPerSecond: Math.round(dirty),
      messagesPerSecond: Math.round(messagesPerSecond), crossingBytesPerSecond: Math.round(crossingBytesPerSecond),
    };
  }
}

/**
 * How loaded a host is, for comparing hosts: the instructions per second its
 * guests want over those it can give (speedOf: its --capacity and its measured
 * speed), plus a little per runnable guest so that idle hosts still differ by
 * how many guests wait to run.
 */
export function loadOf(v: LoadVector): number {
  return v.ipsWanted / speedOf(v) + v.runnable * 0.01;
}

/** Whether a vector is well formed (it came from another host over the network). */
export function isLoadVector(value: unknown): value is LoadVector {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  const nums = ["incarnation", "seq", "guests", "runnable", "ipsGiven", "ipsWanted", "memoryUsed", "memoryFree", "dirtyBytesPerSecond", "messagesPerSecond"];
  return typeof v.url === "string" && typeof v.name === "string" && nums.every((k) => typeof v[k] === "number" && Number.isFinite(v[k]))
    && (v.capacity === null || typeof v.capacity === "number") && Array.isArray(v.labels) && v.labels.every((l) => typeof l === "string");
}
