import { describe, expect, it } from "vitest";
import { Clint } from "../../src/machine/devices/clint.js";
import { GuestClock } from "../../src/machine/guest-clock.js";

// A host clock the test moves by hand (nanoseconds).
function fakeHost(startNs = 5_000_000_000n) {
  const host = { ns: startNs };
  return { host, now: () => host.ns };
}

describe("GuestClock", () => {
  it("counts 10 MHz ticks from its start value", () => {
    const { host, now } = fakeHost();
    const clock = new GuestClock(now, 1000n);
    expect(clock.now()).toBe(1000n);
    host.ns += 1_000_000n; // 1 ms
    expect(clock.now()).toBe(11_000n);
  });

  it("never runs backwards when the host clock does", () => {
    const { host, now } = fakeHost();
    const clock = new GuestClock(now);
    host.ns += 500_000n;
    expect(clock.now()).toBe(5000n);
    host.ns -= 400_000n;
    expect(clock.now()).toBe(5000n);
    host.ns += 600_000n;
    expect(clock.now()).toBe(7000n);
  });

  it("continues from the saved ticks on another host", () => {
    const a = fakeHost(1_000n);
    const clock = new GuestClock(a.now);
    a.host.ns += 2_000_000n;
    const saved = JSON.parse(JSON.stringify(clock.state()));
    expect(saved).toEqual({ schemaVersion: 1, ticks: "20000" });
    const b = fakeHost(999_999_999_999n); // a host whose clock reads something else entirely
    const moved = new GuestClock(b.now);
    moved.restore(saved);
    expect(moved.now()).toBe(20000n);
    b.host.ns += 100n;
    expect(moved.now()).toBe(20001n);
  });
});

describe("Clint", () => {
  function clint() {
    const fake = fakeHost();
    const clock = new GuestClock(fake.now);
    return { clint: new Clint(clock), clock, host: fake.host };
  }

  it("sits at QEMU virt's address", () => {
    const { clint: c } = clint();
    expect(c.base).toBe(0x02000000);
    expect(c.size).toBe(0x10000);
  });

  it("reads mtime in two halves at +0xbff8", () => {
    const { clint: c, clock, host } = clint();
    clock.set(0x1_2345_6789n);
    expect(c.read(0xbff8, 4)).toBe(0x23456789);
    expect(c.read(0xbffc, 4)).toBe(1);
    host.ns += 100n;
    expect(c.read(0xbff8, 4)).toBe(0x2345678a);
  });

  it("lets the guest set mtime half by half", () => {
    const { clint: c, clock } = clint();
    c.write(0xbffc, 4, 7);
    c.write(0xbff8, 4, 0x10);
    expect(clock.now()).toBe((7n << 32n) | 0x10n);
  });

  it("raises the timer when mtime reaches mtimecmp", () => {
    const { clint: c, clock, host } = clint();
    expect(c.nextDeadline()).toBeUndefined();
    expect(c.timerPending(clock.now())).toBe(false);
    c.write(0x4004, 4, 0);
    c.write(0x4000, 4, 1000);
    expect(c.read(0x4000, 4)).toBe(1000);
    expect(c.read(0x4004, 4)).toBe(0);
    expect(c.nextDeadline()).toBe(1000n);
    expect(c.timerPending(clock.now())).toBe(false);
    host.ns += 100n * 1000n;
    expect(c.timerPending(clock.now())).toBe(true);
    c.write(0x4004, 4, 1); // push the deadline past 2^32: pending clears
    expect(c.timerPending(clock.now())).toBe(false);
  });

  it("keeps only bit 0 of msip", () => {
    const { clint: c } = clint();
    c.write(0, 4, 0xffffffff);
    expect(c.read(0, 4)).toBe(1);
    expect(c.softwarePending()).toBe(true);
    c.write(0, 4, 2);
    expect(c.softwarePending()).toBe(false);
  });

  it("merges narrow accesses into the 32-bit registers", () => {
    const { clint: c } = clint();
    c.write(0x4000, 4, 0x11223344);
    c.write(0x4001, 1, 0xaa);
    expect(c.read(0x4000, 4)).toBe(0x1122aa44);
    c.write(0x4002, 2, 0xbeef);
    expect(c.read(0x4000, 4)).toBe(0xbeefaa44);
    expect(c.read(0x4003, 1)).toBe(0xbe);
    expect(c.read(0x4002, 2)).toBe(0xbeef);
  });

  it("reads reserved space as zero and ignores writes there", () => {
    const { clint: c } = clint();
    c.write(0x100, 4, 5);
    expect(c.read(0x100, 4)).toBe(0);
  });

  it("round-trips msip and mtimecmp", () => {
    const { clint: a } = clint();
    a.write(0, 4, 1);
    a.write(0x4004, 4, 0xffff);
    a.write(0x4000, 4, 0xfffffffe);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const { clint: b } = clint();
    b.restore(saved);
    expect(b.read(0x4000, 4)).toBe(0xfffffffe);
    expect(b.read(0x4004, 4)).toBe(0xffff);
    expect(b.softwarePending()).toBe(true);
  });
});
