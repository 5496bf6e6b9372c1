// assembly/layout.ts and assembly/ops.ts are shared, word for word, by the core
// (AssemblyScript) and the host (TypeScript). AssemblyScript's integer type names
// are plain numbers on the host side.
type u8 = number;
type u16 = number;
type u32 = number;
type i32 = number;
