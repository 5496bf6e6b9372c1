// The linear window (assembly/layout.ts, LINEAR_READ): the largest power of two of pages RAM holds. A virtual page is
// linear when its RAM page is its page number modulo the window; the core marks such pages in its TLBs, translated
// code reaches them from the address alone (src/jit/gen-memory.ts), and the kernel gives pages those frames
// (src/kernel/frames.ts). assembly/memory.ts (setRamBytes) computes the same in the core.

/** Pages in the linear window of a RAM of `pages` pages (1 for none). */
export function linearWindowPages(pages: number): number {
  return pages < 1 ? 1 : 2 ** Math.floor(Math.log2(pages));
}
