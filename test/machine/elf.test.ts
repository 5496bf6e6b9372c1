import { describe, expect, it } from "vitest";
import { checkSegmentsInside, ElfError, parseElf } from "../../src/elf/index.js";
import { buildElf, programField, sampleElf, sectionField } from "./elf-builder.js";

function expectElfError(bytes: Uint8Array, message: string | RegExp): void {
  let thrown: unknown;
  try {
    parseElf(bytes);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ElfError);
  const text = (thrown as Error).message;
  expect(text).not.toContain("\n");
  if (typeof message === "string") expect(text).toBe(message);
  else expect(text).toMatch(message);
}

describe("parseElf on valid images", () => {
  it("returns the entry, loadable segments and symbols", () => {
    const elf = sampleElf();
    const image = parseElf(elf.bytes);
    expect(image.entry).toBe(0x80000000);
    expect(image.flags).toBe(1);
    expect(image.segments).toHaveLength(2);
    const [text, data] = image.segments;
    expect(text).toMatchObject({ index: 0, paddr: 0x80000000, vaddr: 0x80000000, filesz: 8, memsz: 8, flags: 5 });
    expect([...text.data]).toEqual([0x13, 0, 0, 0, 0x73, 0, 0x10, 0x10]);
    expect(data).toMatchObject({ index: 1, paddr: 0x80001000, filesz: 4, memsz: 0x100, flags: 6 });
    expect(image.symbols.get("tohost")?.value).toBe(0x80001000);
    expect(image.symbols.get("fromhost")?.value).toBe(0x80001040);
    expect(image.symbols.get("_start")?.size).toBe(0);
  });

  it("accepts an image without section headers (no symbols)", () => {
    const elf = buildElf({ entry: 0x80000000, segments: [{ paddr: 0x80000000, data: new Uint8Array(4) }], withSections: false });
    const image = parseElf(elf.bytes);
    expect(image.symbols.size).toBe(0);
    expect(image.segments).toHaveLength(1);
  });

  it("skips non-LOAD and empty segments but keeps their indices", () => {
    const elf = buildElf({
      entry: 0x80000000,
      segments: [
        { paddr: 0, data: new Uint8Array(0), type: 0x70000003 }, // PT_RISCV_ATTRIBUTES
        { paddr: 0x80000000, data: new Uint8Array(0), memsz: 0 },
        { paddr: 0x80000000, data: new Uint8Array(4) },
      ],
    });
    const image = parseElf(elf.bytes);
    expect(image.segments.map((s) => s.index)).toEqual([2]);
  });

  it("prefers a global symbol over a local one with the same name", () => {
    const elf = buildElf({
      entry: 0x80000000,
      segments: [{ paddr: 0x80000000, data: new Uint8Array(4) }],
      symbols: [
        { name: "tohost", value: 0x1111, global: false },
        { name: "tohost", value: 0x2222, global: true },
      ],
    });
    expect(parseElf(elf.bytes).symbols.get("tohost")?.value).toBe(0x2222);
  });
});

describe("parseElf on malformed images", () => {
  it("rejects files that are not ELF", () => {
    expectElfError(new Uint8Array(0), "not an ELF file (bad magic)");
    expectElfError(Buffer.from("#!/bin/sh\necho hi\n"), "not an ELF file (bad magic)");
  });

  it("rejects a file cut inside the identification or header", () => {
    expectElfError(sampleElf().bytes.subarray(0, 10), "truncated: ELF identification ends at 16 but file is 10 bytes");
    expectElfError(sampleElf().bytes.subarray(0, 40), "truncated: ELF header ends at 52 but file is 40 bytes");
  });

  it("rejects 64-bit, big-endian and unknown-version images", () => {
    const elf64 = sampleElf();
    elf64.bytes[4] = 2;
    expectElfError(elf64.bytes, "not a 32-bit ELF (class 2, ELFCLASS64)");
    const big = sampleElf();
    big.bytes[5] = 2;
    expectElfError(big.bytes, "not little-endian (data encoding 2, big-endian)");
    const identVersion = sampleElf();
    identVersion.bytes[6] = 0;
    expectElfError(identVersion.bytes, "unsupported ELF version (EI_VERSION 0)");
    const version = sampleElf();
    version.view.setUint32(20, 2, true);
    expectElfError(version.bytes, "unsupported ELF version (e_version 2)");
  });

  it("rejects other machines and non-executables", () => {
    const x86 = sampleElf();
    x86.view.setUint16(18, 62, true);
    expectElfError(x86.bytes, "not a RISC-V ELF (e_machine 62, x86-64)");
    const odd = sampleElf();
    odd.view.setUint16(18, 9999, true);
    expectElfError(odd.bytes, "not a RISC-V ELF (e_machine 9999)");
    const shared = sampleElf();
    shared.view.setUint16(16, 3, true);
    expectElfError(shared.bytes, /^position-independent \(e_type 3, ET_DYN: a shared object or a static-pie\): Roam runs static programs .*-static -no-pie/);
    const dynamic = buildElf({ entry: 0x10000, segments: [
      { paddr: 0x10000, data: Buffer.from("/lib/ld-linux-riscv32-ilp32.so.1\0"), type: 3 },
      { paddr: 0x10000, data: new Uint8Array(8) },
    ] });
    dynamic.view.setUint16(16, 3, true);
    expectElfError(dynamic.bytes, /^dynamically linked \(it asks for the loader "\/lib\/ld-linux-riscv32-ilp32\.so\.1"\): Roam runs static programs/);
    const object = sampleElf();
    object.view.setUint16(16, 1, true);
    expectElfError(object.bytes, "not an executable (e_type 1, ET_REL)");
  });

  it("rejects bad header and table entry sizes", () => {
    const ehsize = sampleElf();
    ehsize.view.setUint16(40, 40, true);
    expectElfError(ehsize.bytes, "bad ELF header size (e_ehsize 40, expected 52)");
    const phentsize = sampleElf();
    phentsize.view.setUint16(42, 56, true);
    expectElfError(phentsize.bytes, "bad program header size (e_phentsize 56, expected 32)");
    const shentsize = sampleElf();
    shentsize.view.setUint16(46, 64, true);
    expectElfError(shentsize.bytes, "bad section header size (e_shentsize 64, expected 40)");
  });

  it("rejects missing or unloadable program headers", () => {
    const none = sampleElf();
    none.view.setUint16(44, 0, true);
    expectElfError(none.bytes, "no program headers");
    const xnum = sampleElf();
    xnum.view.setUint16(44, 0xffff, true);
    expectElfError(xnum.bytes, /extended program header numbering/);
    const noLoad = buildElf({ entry: 0, segments: [{ paddr: 0, data: new Uint8Array(4), type: 4 }] });
    expectElfError(noLoad.bytes, "no loadable segments");
  });

  it("names the program header that runs past the end of the file", () => {
    const elf = buildElf({
      entry: 0x80000000,
      segments: [0x80000000, 0x80001000].map((paddr) => ({ paddr, data: new Uint8Array(4) })),
      withSections: false,
    });
    elf.view.setUint16(44, 3, true); // a third header would span bytes 116..148 of a 124-byte file
    expectElfError(elf.bytes, "truncated: program header 2 ends at 148 but file is 124 bytes");
    const far = sampleElf();
    far.view.setUint32(28, 0xfffffff0, true);
    expectElfError(far.bytes, /^truncated: program header 0 ends at 4294967312 but file is \d+ bytes$/);
  });

  it("rejects segment data outside the file", () => {
    const elf = sampleElf();
    elf.view.setUint32(programField(elf, 1, 4), elf.bytes.length - 2, true);
    expectElfError(elf.bytes, `truncated: segment 1 data ends at ${elf.bytes.length + 2} but file is ${elf.bytes.length} bytes`);
  });

  it("rejects inconsistent segment sizes and addresses", () => {
    const sizes = sampleElf();
    sizes.view.setUint32(programField(sizes, 1, 20), 2, true);
    expectElfError(sizes.bytes, "segment 1 has more file bytes than memory bytes (p_filesz 4 > p_memsz 2)");
    const wrap = sampleElf();
    wrap.view.setUint32(programField(wrap, 1, 12), 0xffffff80, true);
    expectElfError(wrap.bytes, "segment 1 at 0xffffff80 (256 bytes) wraps around the 32-bit address space");
    const overlap = sampleElf();
    overlap.view.setUint32(programField(overlap, 1, 12), 0x80000004, true);
    expectElfError(overlap.bytes, "segments 0 and 1 overlap at 0x80000004");
  });

  it("rejects broken section tables", () => {
    const truncated = sampleElf();
    expectElfError(
      truncated.bytes.subarray(0, truncated.bytes.length - 1),
      `truncated: section header table (4 entries at ${truncated.shoff}) ends at ${truncated.bytes.length} but file is ${truncated.bytes.length - 1} bytes`,
    );
    const xnum = sampleElf();
    xnum.view.setUint16(48, 0, true);
    expectElfError(xnum.bytes, /extended section numbering/);
    const names = sampleElf();
    names.view.setUint16(50, 9, true);
    expectElfError(names.bytes, "section name table index 9 is out of range (4 sections)");
    const notStrings = sampleElf();
    notStrings.view.setUint16(50, 2, true);
    expectElfError(notStrings.bytes, "section name table (section 2) is not a string table (sh_type 2)");
  });

  it("rejects sections whose data lies outside the file", () => {
    const elf = sampleElf();
    elf.view.setUint32(sectionField(elf, elf.sections.symtab, 20), 0x10000, true);
    expectElfError(elf.bytes, /^truncated: section 2 \(\.symtab\) ends at \d+ but file is \d+ bytes$/);
  });

  it("rejects malformed symbol tables", () => {
    const entsize = sampleElf();
    entsize.view.setUint32(sectionField(entsize, 2, 36), 24, true);
    expectElfError(entsize.bytes, "section 2 (.symtab) has entry size 24, expected 16");
    const size = sampleElf();
    size.view.setUint32(sectionField(size, 2, 20), 17, true);
    expectElfError(size.bytes, "section 2 (.symtab) size 17 is not a multiple of 16");
    const link = sampleElf();
    link.view.setUint32(sectionField(link, 2, 24), 7, true);
    expectElfError(link.bytes, "section 2 (.symtab) links to string table 7, which does not exist");
    const linkType = sampleElf();
    linkType.view.setUint32(sectionField(linkType, 2, 24), 2, true);
    expectElfError(linkType.bytes, "section 2 (.symtab) links to section 2 (.symtab), which is not a string table");
  });

  it("rejects symbol names outside their string table", () => {
    const elf = sampleElf();
    const symtabOffset = elf.view.getUint32(sectionField(elf, 2, 16), true);
    elf.view.setUint32(symtabOffset + 16, 999, true); // symbol 1's st_name
    expectElfError(elf.bytes, /^name of symbol 1 in section 2 \(\.symtab\) is at offset 999, past the end of its \d+-byte string table$/);
  });

  it("rejects a string table without its terminating NUL", () => {
    const elf = sampleElf();
    const strtabOffset = elf.view.getUint32(sectionField(elf, 1, 16), true);
    const strtabSize = elf.view.getUint32(sectionField(elf, 1, 20), true);
    elf.bytes[strtabOffset + strtabSize - 1] = 0x41; // "_start" loses its NUL
    expectElfError(elf.bytes, /^name of symbol 3 in section 2 \(\.symtab\) is not NUL-terminated/);
  });
});

describe("checkSegmentsInside", () => {
  const ram = [0x80000000, 0x88000000] as const;

  it("accepts an image inside RAM", () => {
    expect(() => checkSegmentsInside(parseElf(sampleElf().bytes), ...ram)).not.toThrow();
  });

  it("names the segment and both ranges", () => {
    const elf = buildElf({
      entry: 0x80000000,
      segments: [
        { paddr: 0x80000000, data: new Uint8Array(4) },
        { paddr: 0x1000, data: new Uint8Array(0x1000) },
      ],
    });
    expect(() => checkSegmentsInside(parseElf(elf.bytes), ...ram)).toThrow(
      new ElfError("segment 1 [0x1000, 0x2000) outside RAM [0x80000000, 0x88000000)"),
    );
  });

  it("counts the bss tail", () => {
    const elf = buildElf({ entry: 0x80000000, segments: [{ paddr: 0x87fff000, data: new Uint8Array(4), memsz: 0x2000 }] });
    expect(() => checkSegmentsInside(parseElf(elf.bytes), ...ram)).toThrow(
      "segment 0 [0x87fff000, 0x88001000) outside RAM [0x80000000, 0x88000000)",
    );
  });

  it("rejects an entry point outside RAM", () => {
    const elf = buildElf({ entry: 0x1000, segments: [{ paddr: 0x80000000, data: new Uint8Array(4) }] });
    expect(() => checkSegmentsInside(parseElf(elf.bytes), ...ram)).toThrow(
      "entry point 0x1000 outside RAM [0x80000000, 0x88000000)",
    );
  });
});
