import { describe, expect, it } from "vitest";
import { Uart16550 } from "../../src/machine/devices/uart16550.js";

const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function uart() {
  const sent: number[] = [];
  return { uart: new Uart16550((byte) => sent.push(byte)), sent };
}

describe("Uart16550", () => {
  it("sits at QEMU virt's address with reset values like QEMU's", () => {
    const { uart: u } = uart();
    expect(u.base).toBe(0x10000000);
    expect(u.size).toBe(0x100);
    expect(u.read(IER, 1)).toBe(0);
    expect(u.read(IIR, 1)).toBe(0x01); // no interrupt pending
    expect(u.read(LCR, 1)).toBe(0);
    expect(u.read(MCR, 1)).toBe(0x08); // OUT2
    expect(u.read(LSR, 1)).toBe(0x60); // THR empty, transmitter empty
    expect(u.read(MSR, 1)).toBe(0xb0); // DCD, DSR, CTS
  });

  it("sends THR writes to the sink at once", () => {
    const { uart: u, sent } = uart();
    for (const byte of Buffer.from("ok\n")) u.write(THR, 1, byte);
    expect(Buffer.from(sent).toString()).toBe("ok\n");
    expect(u.read(LSR, 1) & 0x60).toBe(0x60);
  });

  it("keeps only the low byte of wider stores", () => {
    const { uart: u, sent } = uart();
    u.write(THR, 4, 0x12345641);
    expect(sent).toEqual([0x41]);
  });

  it("queues received bytes behind RBR with LSR.DR", () => {
    const { uart: u } = uart();
    expect(u.read(RBR, 1)).toBe(0);
    u.receive(Buffer.from("ab"));
    expect(u.read(LSR, 1)).toBe(0x61);
    expect(u.read(RBR, 1)).toBe(0x61);
    expect(u.read(LSR, 1) & 1).toBe(1);
    expect(u.read(RBR, 1)).toBe(0x62);
    expect(u.read(LSR, 1)).toBe(0x60);
  });

  it("tells input listeners about new bytes and the end of input", () => {
    const { uart: u } = uart();
    let calls = 0;
    u.onInput(() => calls++);
    u.receive([1]);
    expect(calls).toBe(1);
    expect(u.inputEnded).toBe(false);
    u.endInput();
    expect(u.inputEnded).toBe(true);
    expect(calls).toBe(2);
  });

  it("maps DLL/DLM over RBR/IER while DLAB is set", () => {
    const { uart: u, sent } = uart();
    u.write(IER, 1, 0x01);
    u.write(LCR, 1, 0x83);
    u.write(DLL, 1, 0x0c);
    u.write(DLM, 1, 0x01);
    expect(u.read(DLL, 1)).toBe(0x0c);
    expect(u.read(DLM, 1)).toBe(0x01);
    expect(sent).toEqual([]); // the divisor write is not a character
    u.write(LCR, 1, 0x03);
    expect(u.read(IER, 1)).toBe(0x01);
    expect(u.read(LCR, 1)).toBe(0x03);
  });

  it("reports interrupt sources in IIR by priority", () => {
    const { uart: u } = uart();
    u.write(IER, 1, 0x03); // RDI + THRI: enabling THRI with THR empty raises it
    expect(u.read(IIR, 1)).toBe(0x02);
    expect(u.read(IIR, 1)).toBe(0x01); // reading IIR acknowledged THRI
    u.receive([0x41]);
    expect(u.read(IIR, 1)).toBe(0x04); // received data outranks THRI
    u.read(RBR, 1);
    expect(u.read(IIR, 1)).toBe(0x01);
    u.write(THR, 1, 0x42);
    expect(u.read(IIR, 1)).toBe(0x02);
  });

  it("shows FIFO mode in IIR and clears the receive FIFO on request", () => {
    const { uart: u } = uart();
    u.write(FCR, 1, 0x01);
    expect(u.read(IIR, 1)).toBe(0xc1);
    u.receive([1, 2, 3]);
    u.write(FCR, 1, 0x07);
    expect(u.read(LSR, 1) & 1).toBe(0);
    expect(u.read(IIR, 1)).toBe(0xc1);
  });

  it("loops THR back to RBR and MCR to MSR in loopback mode", () => {
    const { uart: u, sent } = uart();
    u.write(MCR, 1, 0x1f);
    u.write(THR, 1, 0x55);
    expect(sent).toEqual([]);
    expect(u.read(RBR, 1)).toBe(0x55);
    expect(u.read(MSR, 1)).toBe(0xf0);
    u.write(MCR, 1, 0x10 | 0x02);
    expect(u.read(MSR, 1)).toBe(0x10);
  });

  it("has a scratch register and ignores writes to LSR/MSR", () => {
    const { uart: u } = uart();
    u.write(SCR, 1, 0xa5);
    expect(u.read(SCR, 1)).toBe(0xa5);
    u.write(LSR, 1, 0);
    u.write(MSR, 1, 0);
    expect(u.read(LSR, 1)).toBe(0x60);
    expect(u.read(MSR, 1)).toBe(0xb0);
    expect(u.read(0x80, 4)).toBe(0); // unused part of the window
  });

  it("round-trips its state, pending input included", () => {
    const { uart: a } = uart();
    a.write(LCR, 1, 0x80);
    a.write(DLL, 1, 3);
    a.write(LCR, 1, 0x03);
    a.write(IER, 1, 0x01);
    a.write(SCR, 1, 9);
    a.receive([7, 8]);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const { uart: b } = uart();
    b.restore(saved);
    expect(b.state()).toEqual(a.state());
    expect(b.read(RBR, 1)).toBe(7);
    expect(() => b.restore({ ...saved, schemaVersion: 99 })).toThrow(/schema 99/);
  });
});
