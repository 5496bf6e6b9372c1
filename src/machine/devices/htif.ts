import { expectSchema, type ByteSink, type DeviceState, type HaltHandler } from "../device.js";
import type { GuestRam } from "../guest-ram.js";

// The Berkeley Host-Target Interface as QEMU implements it (hw/char/riscv_htif.c),
// which riscv-tests and many bare-metal programs use to print and to exit.
//
// tohost and fromhost are 64-bit words in guest RAM, found through the ELF
// symbols of those names. The core exits (EXIT_WATCH) on any store to tohost;
// like QEMU, the command is acted on when its high word (tohost + 4) is written,
// since RV32 writes the low word first. A command is
//   device << 56 | cmd << 48 | payload (48 bits)
//   device 0, cmd 0, payload bit 0 set   → exit with code payload >> 1 (1 = pass)
//   device 0, cmd 0, payload bit 0 clear → payload is the address of a proxied
//                                          syscall block; only write(1 or 2) is served
//   device 1, cmd 1                      → putchar(payload & 0xff)
//   device 1, cmd 0                      → getchar request: noted and not answered
//                                          (console input comes through the UART)
// After a command the reply (device, cmd, response) goes to fromhost and tohost
// is cleared, which is what the guest polls for.

const SYS_WRITE = 64n;
const MAX_PROXIED_WRITE = 1 << 20; // a guest bug must not make the host print gigabytes

export class Htif {
  readonly name = "htif";

  constructor(
    private readonly ram: GuestRam,
    readonly tohost: number,
    readonly fromhost: number | undefined,
    private readonly output: ByteSink,
    private readonly halt: HaltHandler,
  ) {}

  // The core stopped after a store of `size` bytes at `paddr` inside tohost.
  storeHit(paddr: number, size: number): void {
    const highWord = this.tohost + 4;
    if (paddr > highWord || paddr + size <= highWord) return; // the low half: wait for the high one
    const command = this.ram.read64(this.tohost);
    if (command === 0n) return; // the guest clearing tohost itself
    this.execute(command);
  }

  state(): DeviceState {
    return { schemaVersion: 1 }; // tohost/fromhost live in guest RAM, which migrates anyway
  }

  restore(state: DeviceState): void {
    expectSchema(this.name, state, 1);
  }

  private execute(command: bigint): void {
    const device = Number(command >> 56n);
    const cmd = Number((command >> 48n) & 0xffn);
    const payload = command & 0xffff_ffff_ffffn;
    let response = 0;

    if (device === 0 && cmd === 0) {
      if (payload & 1n) {
        const code = Number(payload >> 1n);
        this.halt({ exitCode: code, reason: code === 0 ? "HTIF: pass" : `HTIF: exit code ${code}`, quiet: code === 0 });
        return;
      }
      if (this.proxySyscall(Number(payload))) response = 0x100 | Number(payload & 0xffn);
    } else if (device === 1 && cmd === 1) {
      const byte = Number(payload & 0xffn);
      this.output(byte);
      response = 0x100 | byte;
    } else if (device === 1 && cmd === 0) {
      this.ram.write64(this.tohost, 0n); // QEMU: the request is taken, the reply waits for input
      return;
    }
    // Unknown devices and commands are acknowledged with response 0, as in QEMU.

    if (this.fromhost !== undefined) {
      this.ram.write64(this.fromhost, (command & ~0xffff_ffff_ffffn) | BigInt(response & 0xffff));
    }
    this.ram.write64(this.tohost, 0n);
  }

  // riscv-tests' syscalls.c passes magic_mem[] = {which, arg0, arg1, arg2}. QEMU
  // serves one-byte writes only; any length is served here, and the byte count
  // is returned in magic_mem[0] as the proxy kernel would.
  private proxySyscall(block: number): boolean {
    if (!this.ram.contains(block, 32)) return false;
    const which = this.ram.read64(block);
    const fd = this.ram.read64(block + 8);
    const buffer = Number(this.ram.read64(block + 16) & 0xffffffffn);
    const length = Number(this.ram.read64(block + 24) & 0xffffffffn);
    if (which !== SYS_WRITE || (fd !== 1n && fd !== 2n)) return false;
    if (length > MAX_PROXIED_WRITE || !this.ram.contains(buffer, length)) return false;
    for (const byte of this.ram.readBytes(buffer, length)) this.output(byte);
    this.ram.write64(block, BigInt(length));
    return true;
  }
}
