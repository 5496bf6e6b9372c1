import { expectSchema, type Device, type DeviceState, type HaltHandler } from "../device.js";

// SiFive's test finisher ("sifive,test0") at 0x100000, which QEMU's virt machine
// uses for power-off and reset: a store to offset 0 of
//   0x5555              → pass, exit code 0
//   0x3333 | code << 16 → fail with that code
//   0x7777              → reset
// Other values and offsets are ignored; reads return 0.

export const TEST_FINISHER_BASE = 0x100000;
export const TEST_FINISHER_SIZE = 0x1000;

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export class TestFinisher implements Device {
  readonly name = "test-finisher";
  readonly base = TEST_FINISHER_BASE;
  readonly size = TEST_FINISHER_SIZE;

  constructor(private readonly halt: HaltHandler) {}

  read(_offset: number, _size: number): number {
    return 0;
  }

  write(offset: number, size: number, value: number): void {
    if (offset !== 0) return;
    const status = value & 0xffff;
    // A halfword store carries no code; only a word store can set bits 16-31.
    const code = size === 4 ? (value >>> 16) & 0xffff : 0;
    switch (status) {
      case FINISHER_PASS:
        this.halt({ exitCode: 0, reason: "test finisher: pass", quiet: true });
        break;
      case FINISHER_FAIL:
        // QEMU exits with `code` even when it is 0; a failure that reads as success
        // would hide it, so code 0 becomes 1.
        this.halt({ exitCode: code === 0 ? 1 : code, reason: `test finisher: exit code ${code}` });
        break;
      case FINISHER_RESET:
        this.halt({ exitCode: 0, reason: "test finisher: reset requested (reboot is not supported yet)" });
        break;
      default:
        break;
    }
  }

  state(): DeviceState {
    return { schemaVersion: 1 }; // stateless: everything happens on the store
  }

  restore(state: DeviceState): void {
    expectSchema(this.name, state, 1);
  }
}
