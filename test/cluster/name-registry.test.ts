// Socket names bound cluster-wide: every host hears a binding, a guest's names
// go when it ends, and two hosts that bound one name at once agree on the winner.
import { describe, expect, test } from "vitest";
import { NameRegistry } from "../../src/cluster/name-registry.js";

function cluster(urls: string[]) {
  const registries = new Map<string, NameRegistry>();
  for (const url of urls) {
    registries.set(url, new NameRegistry({
      broadcast: (m) => { for (const [other, r] of registries) if (other !== url) r.heard(structuredClone(m)); },
      tell: (to, m) => registries.get(to)!.heard(structuredClone(m)),
    }));
  }
  return registries;
}

describe("the cluster's socket names", () => {
  test("a binding is heard by every host, refuses another guest, and goes with unbind or its guest", () => {
    const r = cluster(["a", "b", "c"]);
    expect(r.get("a")!.bind("abstract:1:6563686f", "g1", 4)).toBe(true);
    for (const url of ["a", "b", "c"]) expect(r.get(url)!.lookup("abstract:1:6563686f")).toMatchObject({ guest: "g1", socket: 4 });
    expect(r.get("b")!.bind("abstract:1:6563686f", "g2", 9)).toBe(false);
    expect(r.get("a")!.bind("abstract:1:6563686f", "g1", 4)).toBe(true); // bound again on restore: the same binding
    r.get("a")!.unbind("abstract:1:6563686f", "g1", 4);
    expect(r.get("c")!.lookup("abstract:1:6563686f")).toBeUndefined();
    r.get("b")!.bind("tcp:10.77.0.5:80", "g2", 1);
    r.get("b")!.bind("tcp:10.77.0.5:81", "g2", 2);
    r.get("b")!.dropGuest("g2");
    expect(r.get("a")!.lookup("tcp:10.77.0.5:80")).toBeUndefined();
    expect(r.get("a")!.lookup("tcp:10.77.0.5:81")).toBeUndefined();
  });

  test("two guests that bound one name at the same moment: the earlier binding wins on every host", () => {
    const r = cluster(["a", "b"]);
    r.get("a")!.heard({ kind: "name", op: "bind", key: "k", guest: "g-late", socket: 1, at: 2000 });
    r.get("b")!.heard({ kind: "name", op: "bind", key: "k", guest: "g-early", socket: 2, at: 1000 });
    r.get("a")!.heard({ kind: "name", op: "bind", key: "k", guest: "g-early", socket: 2, at: 1000 });
    r.get("b")!.heard({ kind: "name", op: "bind", key: "k", guest: "g-late", socket: 1, at: 2000 });
    expect(r.get("a")!.lookup("k")?.guest).toBe("g-early");
    expect(r.get("b")!.lookup("k")?.guest).toBe("g-early");
  });

  test("a host learned later hears the bindings of the guests here; bad announcements are ignored", () => {
    const r = cluster(["a", "b"]);
    r.get("a")!.bind("k1", "g1", 1);
    r.get("a")!.heard({ kind: "name", op: "bind", key: "k2", guest: "elsewhere", socket: 3, at: 5 });
    const late = cluster(["z"]).get("z")!;
    const told: Array<Record<string, unknown>> = [];
    const a = new NameRegistry({ broadcast: () => {}, tell: (_to, m) => told.push(m) });
    a.bind("k1", "g1", 1);
    a.heard({ kind: "name", op: "bind", key: "k2", guest: "elsewhere", socket: 3, at: 5 });
    a.introduce("ws://z", (g) => g === "g1");
    expect(told.map((m) => m.key)).toEqual(["k1"]);
    for (const m of told) late.heard(m);
    expect(late.lookup("k1")?.guest).toBe("g1");
    late.heard({ kind: "name", op: "bind", key: 5, guest: "x", socket: 1 });
    late.heard({ kind: "name", op: "bind", key: "k9", guest: null, socket: 1 });
    expect(late.lookup("k9")).toBeUndefined();
  });
});
