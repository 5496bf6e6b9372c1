// Deterministic damage for fuzz tests: a seeded random source, and mutations of
// decoded msgpack data (delete a field, change its type, NaN, huge or negative
// numbers, lists of the wrong length, extra nesting, bytes flipped or cut).

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
export const below = (random: Random, n: number): number => Math.floor(random() * n);

/** Values that break assumptions: every type, the edges of every range. */
export const ODD_VALUES: readonly unknown[] = [
  NaN, Infinity, -Infinity, -1, 0, 1, 2, 3, 1.5, -0.5, 255, 256, 1023, 1024, 4096, 0xffff, 0x10000, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308,
  "", "x", "-1", "0", "1.5", "18446744073709551616", "99999999999999999999", "../..", "/../x", "<stdin>", "process", "machine", "file", "terminal", "line\nbreak",
  true, false, null, [], {}, [1, 2, 3], [[0, {}]], { a: { b: { c: 1 } } }, new Uint8Array(0), new Uint8Array(7), new Uint8Array(512),
];

const ODD_WORDS = [0, 1, 2, 3, 7, 0x20, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80001000, 0xfffff000, 0xffffffff, 1 << 30, 4 << 20];

type Node = Record<string | number, unknown>;

/** Every place in `root` that holds a value: [parent, key] pairs, depth first. */
function places(root: unknown, out: Array<[Node, string | number]> = []): Array<[Node, string | number]> {
  if (root instanceof Uint8Array || typeof root !== "object" || root === null) return out;
  const keys = Array.isArray(root) ? root.map((_, i) => i) : Object.keys(root);
  for (const key of keys) {
    out.push([root as Node, key]);
    places((root as Node)[key], out);
  }
  return out;
}

/**
 * Damages `root` in place at one random place; returns what was done (for a
 * failure's report). `hotWords`: offsets in byte fields worth aiming at (the hart block's).
 */
export function mutate(root: unknown, random: Random, hotWords: readonly number[] = []): string {
  const all = places(root);
  if (all.length === 0) return "nothing to mutate";
  const [parent, key] = pick(random, all);
  const value = parent[key];
  const where = String(key);
  const choice = below(random, 10);
  if (value instanceof Uint8Array && choice < 6) return mutateBytes(parent, key, value, random, hotWords);
  if (Array.isArray(value) && choice < 3) {
    if (value.length && random() < 0.5) value.splice(below(random, value.length), 1);
    else value.push(value.length && random() < 0.5 ? structuredClone(value[below(random, value.length)]) : pick(random, ODD_VALUES));
    return `${where}: list length changed to ${value.length}`;
  }
  if (typeof value === "number" && choice < 4) {
    parent[key] = pick(random, [value + 1, value - 1, -value, value * 2 ** 20, value + 0.5, value + 4096]);
    return `${where}: ${value} -> ${String(parent[key])}`;
  }
  if (choice < 5) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return `${where}: deleted`;
  }
  if (choice < 6) {
    parent[key] = random() < 0.5 ? [value] : { [where]: value };
    return `${where}: nested one level deeper`;
  }
  const odd = pick(random, ODD_VALUES);
  parent[key] = odd instanceof Uint8Array ? odd.slice() : structuredClone(odd);
  return `${where}: replaced by ${describeValue(odd)}`;
}

function mutateBytes(parent: Node, key: string | number, bytes: Uint8Array, random: Random, hotWords: readonly number[]): string {
  const copy = Uint8Array.from(bytes);
  const op = below(random, 4);
  if (op === 0 && copy.length) {
    const at = below(random, copy.length);
    copy[at] ^= 1 << below(random, 8);
    parent[key] = copy;
    return `${String(key)}: bit flipped in byte ${at}`;
  }
  if (op === 1) {
    parent[key] = random() < 0.5 ? copy.subarray(0, below(random, copy.length + 1)) : Uint8Array.from([...copy, ...new Uint8Array(1 + below(random, 9))]);
    return `${String(key)}: length ${copy.length} -> ${(parent[key] as Uint8Array).length}`;
  }
  if (copy.length < 4) return `${String(key)}: unchanged (too short)`;
  const at = hotWords.length && random() < 0.7 ? pick(random, hotWords) : below(random, copy.length >>> 2) * 4;
  if (at + 4 > copy.length) return `${String(key)}: unchanged`;
  const word = pick(random, ODD_WORDS);
  new DataView(copy.buffer).setUint32(at, word, true);
  parent[key] = copy;
  return `${String(key)}: word at ${at} set to 0x${word.toString(16)}`;
}

function describeValue(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === "number") return String(v);
  return JSON.stringify(v) ?? String(v);
}
