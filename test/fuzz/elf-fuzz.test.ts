// Fuzzing the ELF parser with the committed guest images: bits flipped (mostly
// in the headers and tables, where they matter), words set to odd values,
// files cut short. Every image must parse or be refused with an ElfError whose
// message is one line — never another exception.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ElfError, parseElf } from "../../src/elf/index.js";
import { below, pick, seeded, type Random } from "./mutate.js";

const CASES_PER_IMAGE = 300;
const ODD_WORDS = [0, 1, 2, 0x20, 0x28, 0x34, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

function images(): Array<[string, Uint8Array]> {
  const dirs = ["../../guests/bin/process/", "../../guests/bin/baremetal/"];
  const out: Array<[string, Uint8Array]> = [];
  for (const dir of dirs) {
    const url = new URL(dir, import.meta.url);
    for (const name of readdirSync(url).filter((n) => n.endsWith(".elf")).sort()) out.push([name, readFileSync(new URL(name, url))]);
  }
  out.push(["rv32ui-p-add", readFileSync(new URL("../riscv-tests/bin/rv32ui-p-add", import.meta.url))]);
  return out;
}

/** Offsets worth damaging: the ELF header, the program headers and the section headers. */
function hotRanges(elf: Uint8Array): Array<[number, number]> {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = view.getUint32(28, true), phnum = view.getUint16(44, true);
  const shoff = view.getUint32(32, true), shnum = view.getUint16(48, true);
  return [[0, 52], [phoff, phoff + phnum * 32], [shoff, Math.min(elf.length, shoff + shnum * 40)]];
}

function damage(elf: Uint8Array, random: Random): { bytes: Uint8Array; how: string } {
  const bytes = Uint8Array.from(elf);
  const op = below(random, 4);
  if (op === 0) {
    const length = below(random, elf.length);
    return { bytes: bytes.subarray(0, length), how: `cut to ${length} bytes` };
  }
  const [from, to] = pick(random, hotRanges(elf));
  const at = from + below(random, Math.max(1, to - from));
  if (op === 1 && at + 4 <= bytes.length) {
    const word = pick(random, ODD_WORDS);
    new DataView(bytes.buffer).setUint32(at & ~1, word, true);
    return { bytes, how: `word at ${at & ~1} set to 0x${word.toString(16)}` };
  }
  const flips: number[] = [];
  for (let n = 1 + below(random, 4); n > 0; n--) {
    const where = random() < 0.8 ? Math.min(at + below(random, 8), bytes.length - 1) : below(random, bytes.length);
    bytes[where] ^= 1 << below(random, 8);
    flips.push(where);
  }
  return { bytes, how: `bits flipped at ${flips.join(", ")}` };
}

describe("fuzzing the ELF parser", () => {
  test("damaged guest images parse or are refused with a one-line ElfError", () => {
    const random = seeded(0xe1f);
    const problems: string[] = [];
    let refused = 0;
    for (const [name, elf] of images()) {
      for (let i = 0; i < CASES_PER_IMAGE; i++) {
        const { bytes, how } = damage(elf, random);
        try {
          parseElf(bytes);
        } catch (error) {
          if (error instanceof ElfError && !error.message.includes("\n")) { refused++; continue; }
          if (problems.length < 12) problems.push(`${name} (${how}): ${(error as Error).name}: ${JSON.stringify((error as Error).message)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(refused).toBeGreaterThan(CASES_PER_IMAGE);
  }, 60_000);
});
