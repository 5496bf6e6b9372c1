// The contract between the machine and its memory-mapped devices.
//
// The core exits to the host for every load or store outside RAM; the bus finds
// the device whose [base, base + size) window holds the access and calls read or
// write with the offset inside that window. Everything a device must carry across
// a migration comes out of state() as plain named fields (JSON- and
// msgpack-friendly: 64-bit values as decimal strings), tagged with a schema
// version so a newer host can still read an older snapshot.

export interface DeviceState {
  schemaVersion: number;
  [field: string]: unknown;
}

export interface Device {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  // size is 1, 2 or 4; returns the raw (unextended) value of the accessed bytes.
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
  // Called between run slices with the guest time (10 MHz ticks).
  tick?(now: bigint): void;
  state(): DeviceState;
  restore(state: DeviceState): void;
}

// Why and how a device (or the host) wants the machine to stop.
export interface HaltRequest {
  exitCode: number;
  reason: string;
  quiet?: boolean; // a clean exit that needs no report (the guest said "pass")
}

export type HaltHandler = (request: HaltRequest) => void;

// Where guest console bytes go (UART transmit, HTIF putchar).
export type ByteSink = (byte: number) => void;

// Rejects a snapshot written by a different layout of the same device.
export function expectSchema(device: string, state: DeviceState, version: number): void {
  if (state.schemaVersion !== version) {
    throw new Error(`${device}: cannot restore state schema ${String(state.schemaVersion)} (this host reads ${version})`);
  }
}
