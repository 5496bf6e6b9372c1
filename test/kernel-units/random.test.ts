import { describe, expect, test } from "vitest";
import { randomBytes } from "../../src/kernel/random.js";

// The guests' random bytes (AT_RANDOM, getrandom, /dev/urandom) come from the host's /dev/urandom.
describe("randomBytes", () => {
  test("gives the count asked for, different each time, and reads past one read(2)'s worth", () => {
    expect(randomBytes(0)).toHaveLength(0);
    const [a, b] = [randomBytes(64), randomBytes(64)];
    expect(a).toHaveLength(64);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const large = randomBytes(48 << 20); // Linux returns at most 32 MiB per read of /dev/urandom
    expect(large).toHaveLength(48 << 20);
    expect(large.subarray(-4096).some((byte) => byte !== 0)).toBe(true);
  });
});
