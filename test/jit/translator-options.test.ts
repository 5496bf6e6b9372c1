// The translator's knobs from the environment (src/jit/translator-options.ts): what each accepts, its default, and
// the error that names a value it refuses, so a typo in a variable stops the run with a line saying so (the CLI
// prints it and exits 1) rather than running with a default the user did not ask for.

import { describe, expect, test } from "vitest";
import * as L from "../../assembly/layout.js";
import { checksWanted, hotThreshold, otherPagesWanted, warmStartWanted } from "../../src/jit/translator-options.js";

describe("ROAM_JIT_THRESHOLD", () => {
  test("unset or empty: the core's threshold; 0 and 1 both mean the first arrival; up to 255 as given", () => {
    expect([hotThreshold(undefined), hotThreshold("")]).toEqual([L.JIT_THRESHOLD, L.JIT_THRESHOLD]);
    expect([hotThreshold("0"), hotThreshold("1"), hotThreshold("64"), hotThreshold("255")]).toEqual([1, 1, 64, 255]);
  });

  test("anything but an integer from 0 to 255 is refused, naming the value", () => {
    for (const bad of ["abc", "256", "-1", "1.5", "0x10x"]) {
      expect(() => hotThreshold(bad)).toThrow(`ROAM_JIT_THRESHOLD must be an integer from 0 to 255, not "${bad}"`);
    }
  });
});

describe("ROAM_JIT_CHECKS", () => {
  test("linear by default, full when asked", () => {
    expect([checksWanted(undefined), checksWanted(""), checksWanted("linear"), checksWanted("full")]).toEqual(["linear", "linear", "linear", "full"]);
  });

  test("another value is refused, naming it", () => {
    expect(() => checksWanted("fast")).toThrow('ROAM_JIT_CHECKS must be "linear" or "full", not "fast"');
  });
});

describe("ROAM_JIT_OTHER_PAGES", () => {
  test("on unless 0", () => {
    expect([otherPagesWanted(undefined), otherPagesWanted(""), otherPagesWanted("1"), otherPagesWanted("0")]).toEqual([true, true, true, false]);
  });

  test("another value is refused, naming it", () => {
    expect(() => otherPagesWanted("2")).toThrow('ROAM_JIT_OTHER_PAGES must be 0 or 1, not "2"');
  });
});

describe("ROAM_JIT_WARM", () => {
  test("unset, empty or 1: warm starts; 0: cold every time", () => {
    expect([warmStartWanted(undefined), warmStartWanted(""), warmStartWanted("1"), warmStartWanted("0")]).toEqual([true, true, true, false]);
  });

  test("another value is refused, naming it", () => {
    expect(() => warmStartWanted("yes")).toThrow('ROAM_JIT_WARM must be 0 or 1, not "yes"');
  });
});
