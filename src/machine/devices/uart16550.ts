import { expectSchema, type ByteSink, type Device, type DeviceState } from "../device.js";

// An NS16550A as QEMU's virt machine has it: at 0x10000000, registers one byte
// apart (reg-shift 0). Transmission is instantaneous (THR empty and TEMT always
// set); received bytes wait in a queue and show one at a time in RBR. Without a
// PLIC the interrupt line goes nowhere, but IER/IIR still behave like QEMU's so
// drivers that read IIR see consistent values.
//
// Wider accesses read or write the byte register at their address, zero-extended,
// as QEMU's serial_mm does.

export const UART_BASE = 0x10000000;
export const UART_SIZE = 0x100;

const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const LCR_DLAB = 0x80;
const IER_RDI = 0x01; // received data available
const IER_THRI = 0x02; // transmitter holding register empty
const IIR_NO_INT = 0x01;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_FIFO_ENABLED = 0xc0;
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const LSR_DR = 0x01;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const MCR_LOOP = 0x10;
const MSR_RESET = 0xb0; // DCD | DSR | CTS: a terminal is "connected", as in QEMU
const MCR_RESET = 0x08; // OUT2

export class Uart16550 implements Device {
  readonly name = "uart0";
  readonly base = UART_BASE;
  readonly size = UART_SIZE;

  private ier = 0;
  private fcr = 0;
  private lcr = 0;
  private mcr = MCR_RESET;
  private scr = 0;
  private divisor = 0; // DLL | DLM << 8
  private thrInterruptPending = false;
  private input: number[] = [];
  private ended = false;
  private readonly inputListeners: Array<() => void> = [];

  constructor(private readonly output: ByteSink) {}

  // Bytes typed by the user (or piped in) become readable through RBR.
  receive(bytes: Iterable<number>): void {
    for (const byte of bytes) this.input.push(byte & 0xff);
    for (const listener of this.inputListeners) listener();
  }

  // Lets the machine wake a hart sleeping in wfi when input arrives.
  onInput(listener: () => void): void {
    this.inputListeners.push(listener);
  }

  hasInput(): boolean {
    return this.input.length > 0;
  }

  // The input source is exhausted (stdin reached EOF): no byte will ever arrive
  // again, which lets the machine tell a guest waiting for input that it is stuck.
  endInput(): void {
    this.ended = true;
    for (const listener of this.inputListeners) listener();
  }

  get inputEnded(): boolean {
    return this.ended;
  }

  read(offset: number, _size: number): number {
    switch (offset) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) return this.divisor & 0xff;
        return this.input.length > 0 ? (this.input.shift() as number) : 0;
      case IER_DLM:
        return this.lcr & LCR_DLAB ? this.divisor >> 8 : this.ier;
      case IIR_FCR: {
        const iir = this.interruptIdentification();
        // Reading IIR acknowledges a THR-empty interrupt (16550 datasheet, QEMU).
        if (iir === IIR_THRI) this.thrInterruptPending = false;
        return iir | (this.fcr & FCR_ENABLE ? IIR_FIFO_ENABLED : 0);
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        return LSR_THRE | LSR_TEMT | (this.input.length > 0 ? LSR_DR : 0);
      case MSR:
        return this.modemStatus();
      case SCR:
        return this.scr;
      default:
        return 0; // the rest of the 0x100 window is unused
    }
  }

  write(offset: number, _size: number, value: number): void {
    const byte = value & 0xff;
    switch (offset) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | byte;
        } else {
          // In loopback mode the transmitter feeds the receiver (used by probes).
          if (this.mcr & MCR_LOOP) this.receive([byte]);
          else this.output(byte);
          this.thrInterruptPending = true; // transmitted at once: THR is empty again
        }
        break;
      case IER_DLM:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0x00ff) | (byte << 8);
        } else {
          const enablingThri = (byte & IER_THRI) !== 0 && (this.ier & IER_THRI) === 0;
          this.ier = byte & 0x0f;
          // Enabling THRI with THR already empty raises it straight away.
          if (enablingThri) this.thrInterruptPending = true;
        }
        break;
      case IIR_FCR:
        if (byte & FCR_CLEAR_RX) this.input = [];
        this.fcr = byte & 0xc9; // enable, DMA mode, trigger level; clear bits self-reset
        break;
      case LCR:
        this.lcr = byte;
        break;
      case MCR:
        this.mcr = byte & 0x1f;
        break;
      case SCR:
        this.scr = byte;
        break;
      default:
        break; // LSR and MSR are read-only
    }
  }

  state(): DeviceState {
    return {
      schemaVersion: 1,
      ier: this.ier,
      fcr: this.fcr,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      divisor: this.divisor,
      thrInterruptPending: this.thrInterruptPending,
      input: [...this.input],
    };
  }

  restore(state: DeviceState): void {
    expectSchema(this.name, state, 1);
    this.ier = Number(state.ier);
    this.fcr = Number(state.fcr);
    this.lcr = Number(state.lcr);
    this.mcr = Number(state.mcr);
    this.scr = Number(state.scr);
    this.divisor = Number(state.divisor);
    this.thrInterruptPending = Boolean(state.thrInterruptPending);
    this.input = (state.input as number[]).map((byte) => byte & 0xff);
  }

  // Highest-priority pending source, as the 16550 encodes it in IIR bits 0-3.
  private interruptIdentification(): number {
    if (this.ier & IER_RDI && this.input.length > 0) return IIR_RDI;
    if (this.ier & IER_THRI && this.thrInterruptPending) return IIR_THRI;
    return IIR_NO_INT;
  }

  private modemStatus(): number {
    if (!(this.mcr & MCR_LOOP)) return MSR_RESET;
    // Loopback wires the modem control outputs back to the status inputs.
    const m = this.mcr;
    return ((m & 0x0c) << 4) | ((m & 0x02) << 3) | ((m & 0x01) << 5);
  }
}
