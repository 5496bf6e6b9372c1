// A pipe's byte queue on its own (src/kernel/pipes.ts): what a reader gets for
// the writes queued, in order, whole or in parts, across the end of its ring
// buffer; and a copy that fails (a bad guest pointer) leaves the pipe as it was.
import { describe, expect, test } from "vitest";
import { Pipe, PIPE_BUF, PIPE_CAPACITY } from "../../src/kernel/pipes.js";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe("pipes", () => {
  test("reads return the bytes written, in order, across writes and in parts", () => {
    const pipe = new Pipe(1);
    const a = bytes(1000, 1), b = bytes(3000, 2), c = bytes(500, 3);
    expect(pipe.write(a)).toBe(1000);
    expect(pipe.write(b)).toBe(3000);
    expect(pipe.write(c)).toBe(500);
    const all = [...a, ...b, ...c];
    const got: number[] = [];
    for (const n of [10, 990, 1500, 2000, 100, 10_000]) got.push(...pipe.read(n));
    expect(got).toEqual(all);
    expect(pipe.size).toBe(0);
    expect(pipe.read(100)).toHaveLength(0);
  });

  test("a write of PIPE_BUF bytes or fewer goes in whole or not at all; a bigger one takes the room there is", () => {
    const pipe = new Pipe(1);
    expect(pipe.write(bytes(PIPE_CAPACITY - 100, 0))).toBe(PIPE_CAPACITY - 100);
    expect(pipe.write(bytes(PIPE_BUF, 0))).toBe(0);
    expect(pipe.write(bytes(PIPE_BUF + 1, 0))).toBe(100);
    expect(pipe.room).toBe(0);
  });

  test("bytes wrap around the end of the ring and come out in order, in two parts when they straddle it", () => {
    const pipe = new Pipe(1);
    const sent: number[] = [], got: number[] = [];
    let straddled = 0;
    // Writes and reads of sizes that do not divide the capacity: the ends meet everywhere in the ring.
    for (let round = 0; round < 40; round++) {
      const chunk = bytes(7000 + round * 13, round);
      const n = pipe.write(chunk);
      sent.push(...chunk.subarray(0, n));
      const parts: number[] = [];
      const taken = pipe.readWith(5000 + round * 7, (part, from) => { parts.push(from); got.push(...part); return true; });
      expect(parts[0]).toBe(0);
      if (parts.length === 2) { expect(parts[1]).toBeGreaterThan(0); straddled++; }
      expect(taken).toBeGreaterThan(0);
    }
    got.push(...pipe.read(PIPE_CAPACITY));
    expect(got).toEqual(sent);
    expect(straddled, "reads that met the end of the ring").toBeGreaterThan(0);
  });

  test("a copy that fails queues nothing and takes nothing", () => {
    const pipe = new Pipe(1);
    pipe.write(bytes(60_000, 1));
    pipe.read(50_000); // the next write wraps
    expect(pipe.writeWith(20_000, (_part, from) => from === 0)).toBe(false); // the second part fails
    expect(pipe.size).toBe(10_000);
    expect(pipe.readWith(10_000, () => false)).toBe(-1);
    expect(pipe.size).toBe(10_000);
    expect([...pipe.read(10_000)]).toEqual([...bytes(60_000, 1).subarray(50_000)]);
  });

  test("a pipe's state holds the bytes in flight, and a restored pipe gives them back", () => {
    const pipe = new Pipe(7);
    pipe.write(bytes(100, 1));
    pipe.write(bytes(50, 2));
    pipe.read(30);
    const again = Pipe.restore(pipe.state());
    expect([...again.read(1000)]).toEqual([...bytes(100, 1).subarray(30), ...bytes(50, 2)]);
  });
});
