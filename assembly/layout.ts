// The fixed layout of the core's WASM memory, shared by the core (AssemblyScript)
// and the host (TypeScript). This file is written in the common subset of both
// languages: plain numeric constants only, so both compilers read the same text.
//
// Everything that migrates is data at a fixed offset: the hart state block, the
// per-page bitmaps and guest RAM. Caches (TLBs, decoded pages) are derived data
// and are rebuilt after a restore.

// ---- Regions ---------------------------------------------------------------
export const STATE_BASE = 0x1000; // hart state block (see STATE_* offsets)
export const STATE_SIZE = 0x1000;

// Direct-mapped, 1024 entries each (at 0xd0000: after HOST_BITMAP, before AssemblyScript's data). With 256 the
// SQLite shell's working set (~2k pages) thrashed them: 3.6 M of its translated regions' exits were TLB misses
// (of 29 M), 27 k with 1024; it took ~15 % less CPU, Lua the same. A flush (satp, sfence.vma, a privilege change)
// invalidates the entries installed since the last one (TLB_LOG), or, past TLB_LOG_MAX of them, fills all 24 KiB.
export const TLB_ENTRIES = 1024; // per TLB; index = vpn & (TLB_ENTRIES - 1)
export const TLB_READ = 0xd0000; // entries: [tag u32, addend u32]
export const TLB_WRITE = 0xd2000; // entries: [tag u32, addend u32]
export const TLB_FETCH = 0xd4000; // entries: [tag u32, decoded page base u32]
export const TLB_WRITE_PPN = 0xd6000; // u32 per write entry: physical page (for code invalidation), up to 0xd7000
// u16 per entry installed since the last flush (its index), up to TLB_LOG_MAX: a flush then invalidates just those,
// not 24 KiB (a trap from U-mode and its mret flush twice; 1 M such round trips took 0.36 s instead of 0.19 s).
export const TLB_LOG = 0xd7000;
export const TLB_LOG_MAX = 64;
// Linear tags, one per read and write TLB entry (8 bytes apart, as the entries: the same index reaches both): the
// entry's tag when its page sits at its linear place in RAM, else invalid. A page is linear when its RAM page is its
// virtual page number modulo the linear window (the largest power of two of pages that RAM holds): then its host
// address is RAM_HOST_BASE + (va & (window bytes - 1)), which translated code computes from the address alone, so a
// load through a linear page need not wait for its entry's addend (src/jit/gen-memory.ts). The interpreter ignores them.
export const LINEAR_READ = 0xd8000;
export const LINEAR_WRITE = 0xda000; // up to 0xdc000

export const DECODE_SCRATCH = 0x4000; // a tiny decoded page for instructions that straddle pages
export const JIT_BUDGET = 0x5000; // i32: the budget left when translated code returns
export const JIT_PAGE_VA = 0x5004; // u32: the code page's virtual base around a call of translated code (it may change it)
export const JIT_DECODED = 0x5008; // u32: that page's decoded copy (translated code that jumps to another page sets both)
export const JIT_REQUEST_ENTRY = 0x5010; // u32: with EXIT_JIT_REQUEST, the hot entry's address (kept out of the state block)
export const RUN_RETIRED = 0x5014; // i32: instructions the last run() retired (a CSR write may have moved instret meanwhile)
export const JIT_EXIT_COUNTS = 0x5100; // u32 per JIT_EXIT_* kind: exits from translated code, counted when ROAM_JIT_COUNT_EXITS=1
export const JIT_EXIT_KINDS = 8;
// u64: instructions translated code retired since init (the fast loop adds each call's share): --stats says what
// share of a run ran translated. A statistic of this core, not guest state: it does not migrate.
export const JIT_RETIRED = 0x5020;
export const JIT_EXIT_TRANSFER = 0x5018; // u32: 1 if translated code returned at a jump's target (counted for hotness), else 0
// u32: read and write TLB entries the core filled for a page that is not at its linear frame. Translated code with
// linear checks leaves at every access to such a page, and the interpreter fills the entry again each time: the
// translator reads it between slices and goes over to full checks when they come often (src/jit/translator.ts).
export const JIT_NONLINEAR_FILLS = 0x5030;
// u32: group checks through sp that failed where they relied on the ABI's 16-byte sp (src/jit/gen-memory.ts
// stackBlock): the translator reads it between slices and stops relying on it when they come often.
export const JIT_STACK_MISSES = 0x5034;
export const JIT_HOT_AT = 0x500c; // u8: arrivals at a jump target that make it hot (the host may lower it; 1 = first)
export const JIT_ORIGINALS = 0x8000; // 8 bytes per translated function: the entry it replaced
export const JIT_MAX_FUNCTIONS = 4096;
export const HOT_COUNTERS = 0xb0000; // u8 per hashed entry address: taken backward branches
export const WRITTEN_BITMAP = 0xc0000; // bit per RAM page: ever written since init (never-written pages are zero)
export const HOST_BITMAP = 0xc8000; // BITMAP_BYTES: a page bitmap the host hands to a core call (markMissing)
// Words the host hands to a core call (checkRecorded: a warm start's recorded region), up to HOST_WORDS_BYTES: between
// the linear tags and AssemblyScript's static data.
export const HOST_WORDS = 0xdc000;
export const HOST_WORDS_BYTES = 0x8000;
export const NO_NEXT_WORD = 0x80000000; // checkRecorded: no entry after a block (its last is a jump)
export const HOT_COUNTER_MASK = 0xffff;
// Default JIT_HOT_AT: arrivals before a jump target is worth translating. The most a u8 counter holds: a region
// costs V8's compile and background optimisation, which code run a few hundred times does not earn back (CPU
// seconds against 64: a Lua script 1.80/2.10 -> 1.60/1.84, the SQLite test 1.53/1.74 -> 1.10/1.31, compute small
// 0.23 -> 0.21/0.20).
export const JIT_THRESHOLD = 255;

export const MAX_RAM_BYTES = 0x40000000; // 1 GiB
export const MAX_RAM_PAGES = 0x40000; // MAX_RAM_BYTES / 4096
export const BITMAP_BYTES = 0x8000; // MAX_RAM_PAGES / 8
export const DIRTY_BITMAP = 0x10000; // bit per RAM page: written since the host last cleared it
export const PRESENT_BITMAP = 0x18000; // bit per RAM page: contents are here (else exit to host)
export const CODE_BITMAP = 0x20000; // bit per RAM page: has a decoded copy (derived)
export const PAGE_SLOT_MAP = 0x28000; // u16 per RAM page: decoded slot + 1, 0 = none (derived)
export const SLOT_PPN = 0xa8000; // u32 per decoded slot: RAM page it holds, 0xffffffff = free
// u32 per decoded slot, bumped whenever its entries stop being trustworthy (zeroed by a store to the page, given to
// another page, the whole cache dropped): a translation compiled in the background from the slot's entries is
// installed only if the generation it read is still there (src/jit/translator.ts).
export const SLOT_GENERATION = 0xa9000;
// A 4-byte instruction at offset 0xffe of a decoded page (OP_STRADDLE) has its upper half on the next page. When the
// interpreter runs one it notes that half here, by decoded slot, with the slot's generation then (u32 each): the
// translator builds the whole instruction from it, and translated code checks the half is still there before it runs
// it (src/jit/straddle.ts). STRADDLE_DECODED: the entry decodeStraddling writes for the translator.
export const STRADDLE_UPPER = 0xaa000;
export const STRADDLE_GENERATION = 0xab000;
export const STRADDLE_DECODED = 0xac000;

// AssemblyScript's own static data starts at asconfig "memoryBase" = 0x100000.
export const DECODE_BASE = 0x200000; // decoded page slots
export const DECODE_SLOTS = 1024;
export const DECODE_SLOT_BYTES = 0x4100; // 2048 halfword entries of 8 bytes + 2 sentinels, rounded
export const RAM_HOST_BASE = 0x1400000; // guest RAM lives at WASM address 20 MiB

// ---- Guest physical map (QEMU virt) ----------------------------------------
export const RAM_GUEST_BASE = 0x80000000;

// ---- Hart state block offsets (bytes from STATE_BASE) ----------------------
export const STATE_X = 0; // x0..x31, u32 each
export const STATE_SINK = 128; // write target for rd = x0 on instructions with side effects
export const STATE_PC = 132;
export const STATE_PRIV = 136; // 0 = U, 1 = S, 3 = M
export const STATE_RESERVATION = 140; // LR/SC reserved physical address
export const STATE_RESERVATION_VALID = 144;
export const STATE_EXIT_REASON = 148; // last exit (EXIT_*)
export const STATE_EXIT_CAUSE = 152; // trap cause / MMIO address / missing page number
export const STATE_EXIT_TVAL = 156; // trap tval / MMIO store value
export const STATE_EXIT_SIZE = 160; // MMIO access size in bytes
export const STATE_EXIT_KIND = 164; // MMIO: MMIO_KIND_*; on a load, rd index in bits 8..12
export const STATE_INSTRET = 168; // u64: instructions retired
export const STATE_MTIME = 176; // u64: CLINT mtime, refreshed by the host (time CSR reads it)
export const STATE_HOST_TRAPS = 184; // bit per exception cause: exit to host instead of trapping
export const STATE_WFI = 188; // 1 while the hart waits for an interrupt
export const STATE_MMIO_PENDING = 192; // 1 when a load's value must be placed before resuming
export const STATE_MMIO_VALUE = 196; // the host puts the load's value here
export const STATE_WATCH_PADDR = 200; // physical address whose store exits (HTIF tohost), 0 = none
export const STATE_WATCH_LEN = 204;
export const STATE_FLAGS = 208; // FLAG_* bits
export const STATE_EXIT_PC = 212; // pc of the instruction that caused the exit
export const STATE_RAM_BYTES = 216; // guest RAM size in bytes (set by init)

// CSRs: u32 each from STATE_CSR.
export const STATE_CSR = 256;
export const CSR_MSTATUS = 256;
export const CSR_MISA = 260;
export const CSR_MEDELEG = 264;
export const CSR_MIDELEG = 268;
export const CSR_MIE = 272;
export const CSR_MIP = 276;
export const CSR_MTVEC = 280;
export const CSR_MSCRATCH = 284;
export const CSR_MEPC = 288;
export const CSR_MCAUSE = 292;
export const CSR_MTVAL = 296;
export const CSR_MCOUNTEREN = 300;
export const CSR_STVEC = 304;
export const CSR_SSCRATCH = 308;
export const CSR_SEPC = 312;
export const CSR_SCAUSE = 316;
export const CSR_STVAL = 320;
export const CSR_SCOUNTEREN = 324;
export const CSR_SATP = 328;
export const CSR_MCOUNTINHIBIT = 332;
export const CSR_MENVCFG = 336;
export const CSR_MENVCFGH = 340;
export const CSR_SENVCFG = 344;
export const CSR_MCYCLE_OFFSET = 348; // u64: mcycle = instret + offset (writes to mcycle set it)
export const CSR_PMPCFG = 384; // 4 x u32 (WARL, not enforced)
export const CSR_PMPADDR = 400; // 16 x u32 (WARL, not enforced)
export const CSR_MSECCFG = 464;
export const STATE_USED = 512; // bytes of the block that a snapshot must carry

// ---- Exit reasons returned by run() ----------------------------------------
export const EXIT_BUDGET = 0; // the instruction budget is spent
export const EXIT_HOST_TRAP = 1; // an exception whose bit is set in STATE_HOST_TRAPS (e.g. ecall from U)
export const EXIT_MMIO = 2; // a load/store outside RAM: the host performs it
export const EXIT_PAGE_MISSING = 3; // a RAM page not present: the host fills it, the instruction restarts
export const EXIT_WFI = 4; // wfi with no interrupt pending: the host may sleep
export const EXIT_WATCH = 5; // a store hit the watched address (HTIF tohost)
export const EXIT_BREAKPOINT = 6; // ebreak while FLAG_EBREAK_EXITS is set
export const EXIT_JIT_REQUEST = 7; // FLAG_JIT: a jump target got hot; JIT_REQUEST_ENTRY = its entry address

// MMIO kinds (STATE_EXIT_KIND low byte)
export const MMIO_STORE = 0;
export const MMIO_LOAD_SIGNED = 1;
export const MMIO_LOAD_UNSIGNED = 2;
export const MMIO_FETCH = 3; // instruction fetch outside RAM: always an access fault (never exits)

// STATE_FLAGS bits
export const FLAG_EBREAK_EXITS = 1;
export const FLAG_JIT = 2; // exit with EXIT_JIT_REQUEST when a jump target gets hot (the host translates a region from it)

// Privilege levels
export const PRIV_U = 0;
export const PRIV_S = 1;
export const PRIV_M = 3;

// Exception causes
export const CAUSE_MISALIGNED_FETCH = 0;
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_ECALL_U = 8;
export const CAUSE_ECALL_S = 9;
export const CAUSE_ECALL_M = 11;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;

// Interrupt numbers (mip/mie bits)
export const IRQ_SSI = 1;
export const IRQ_MSI = 3;
export const IRQ_STI = 5;
export const IRQ_MTI = 7;
export const IRQ_SEI = 9;
export const IRQ_MEI = 11;
