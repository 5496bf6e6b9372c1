// The machine-mode devices' state in a snapshot (src/machine: MachineState and
// each device's state()), checked field by field: every register holds only
// the bits the device itself could have put there, and HTIF's mailboxes lie
// inside this guest's RAM (the host reads and writes them there).

import { RAM_GUEST_BASE } from "../../assembly/layout.js";
import type { DeviceState } from "../machine/device.js";
import type { MachineState } from "../machine/machine.js";
import { bool, decimalU64, int, list, MAX_LIST, own, record, schemaVersion } from "./schema.js";


export function checkMachineState(value: unknown, at: string, ramBytes: number): MachineState {
  const m = record(value, at);
  schemaVersion(m, at, 1);
  const htif = own(m, "htif");
  return {
    schemaVersion: 1,
    clock: checkClock(own(m, "clock"), `${at}.clock`),
    uart: checkUart(own(m, "uart"), `${at}.uart`),
    clint: checkClint(own(m, "clint"), `${at}.clint`),
    testFinisher: checkStateless(own(m, "testFinisher"), `${at}.testFinisher`),
    htif: htif === null ? null : checkHtif(htif, `${at}.htif`, ramBytes),
  };
}

function checkClock(value: unknown, at: string): MachineState["clock"] {
  const c = record(value, at);
  schemaVersion(c, at, 1);
  return { schemaVersion: 1, ticks: decimalU64(own(c, "ticks"), `${at}.ticks`) };
}

/** The NS16550A's registers, masked as its write() masks them. */
export function checkUart(value: unknown, at: string): DeviceState {
  const u = record(value, at);
  schemaVersion(u, at, 1);
  const byte = (key: string, max = 0xff) => int(own(u, key), `${at}.${key}`, 0, max);
  return {
    schemaVersion: 1,
    ier: byte("ier", 0x0f),
    fcr: byte("fcr"),
    lcr: byte("lcr"),
    mcr: byte("mcr", 0x1f),
    scr: byte("scr"),
    divisor: byte("divisor", 0xffff),
    thrInterruptPending: bool(own(u, "thrInterruptPending"), `${at}.thrInterruptPending`),
    input: list(own(u, "input"), `${at}.input`, MAX_LIST).map((b, i) => int(b, `${at}.input[${i}]`, 0, 0xff)),
  };
}

export function checkClint(value: unknown, at: string): DeviceState {
  const c = record(value, at);
  schemaVersion(c, at, 1);
  return { schemaVersion: 1, msip: int(own(c, "msip"), `${at}.msip`, 0, 1), mtimecmp: decimalU64(own(c, "mtimecmp"), `${at}.mtimecmp`) };
}

/** A device whose state is only its schema version (the test finisher, HTIF's own part). */
function checkStateless(value: unknown, at: string): DeviceState {
  schemaVersion(record(value, at), at, 1);
  return { schemaVersion: 1 };
}

function checkHtif(value: unknown, at: string, ramBytes: number): NonNullable<MachineState["htif"]> {
  const h = record(value, at);
  // tohost and fromhost are 64-bit words the host reads and writes in guest RAM.
  const mailbox = (v: unknown, p: string) => int(v, p, RAM_GUEST_BASE, RAM_GUEST_BASE + ramBytes - 8);
  const fromhost = own(h, "fromhost");
  return {
    tohost: mailbox(own(h, "tohost"), `${at}.tohost`),
    fromhost: fromhost === null ? null : mailbox(fromhost, `${at}.fromhost`),
    state: checkStateless(own(h, "state"), `${at}.state`),
  };
}
