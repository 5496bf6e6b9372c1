// A guest's socket names on a host: its own as in a lone kernel, and the ones
// other guests can reach (abstract names, paths in a root, IPv4 ports on its own
// address) through the cluster's registry.
import { describe, expect, test } from "vitest";
import { ClusterNames } from "../../src/cluster/cluster-names.js";
import { NameRegistry } from "../../src/cluster/name-registry.js";
import { Errno } from "../../src/kernel/errno.js";
import { guestAddress, INADDR_ANY, LOOPBACK, SOCK_STREAM } from "../../src/kernel/sockets/addresses.js";

const registry = () => new NameRegistry({ broadcast: () => {}, tell: () => {} });
const abstract = (text: string) => ({ kind: "abstract" as const, name: Buffer.from(text).toString("hex"), type: SOCK_STREAM });
const tcp = (address: number, port: number) => ({ kind: "inet" as const, protocol: "tcp" as const, address, port });

describe("a guest's names on a host", () => {
  test("an abstract name is one across guests: found from the other, refused to a second binder", () => {
    const names = registry();
    const a = new ClusterNames("ga", "guests/ga", guestAddress("ga"), names);
    const b = new ClusterNames("gb", "guests/gb", guestAddress("gb"), names);
    expect(a.bind(abstract("echo"), { guest: "", socket: 3 })).toBe(0);
    expect(a.lookup(abstract("echo"))).toEqual({ guest: "", socket: 3 });
    expect(b.lookup(abstract("echo"))).toEqual({ guest: "ga", socket: 3 });
    expect(b.bind(abstract("echo"), { guest: "", socket: 1 })).toBe(-Errno.EADDRINUSE);
    expect(b.lookup(abstract("echo"))).toEqual({ guest: "ga", socket: 3 }); // the refused bind left nothing behind
    a.unbind(abstract("echo"), { guest: "", socket: 3 });
    expect(b.lookup(abstract("echo"))).toBeUndefined();
  });

  test("a port bound on INADDR_ANY is reached at the guest's own address from others; 127.0.0.1 stays inside", () => {
    const names = registry();
    const a = new ClusterNames("ga", "guests/ga", guestAddress("ga"), names);
    const b = new ClusterNames("gb", "guests/gb", guestAddress("gb"), names);
    expect(a.bind(tcp(INADDR_ANY, 80), { guest: "", socket: 5 })).toBe(0);
    expect(a.bind(tcp(LOOPBACK, 81), { guest: "", socket: 6 })).toBe(0);
    expect(b.lookup(tcp(guestAddress("ga"), 80))).toEqual({ guest: "ga", socket: 5 });
    expect(b.lookup(tcp(guestAddress("ga"), 81))).toBeUndefined();
    expect(b.lookup(tcp(LOOPBACK, 80))).toBeUndefined(); // b's own loopback: nothing of b listens there
    expect(a.lookup(tcp(LOOPBACK, 80))).toEqual({ guest: "", socket: 5 });
    // Another guest may use the same port number on its own address.
    expect(b.bind(tcp(INADDR_ANY, 80), { guest: "", socket: 2 })).toBe(0);
    expect(a.lookup(tcp(guestAddress("gb"), 80))).toEqual({ guest: "gb", socket: 2 });
  });

  test("a path is shared by guests whose root is the same, and by no other", () => {
    const names = registry();
    const a = new ClusterNames("ga", "shared", guestAddress("ga"), names);
    const b = new ClusterNames("gb", "shared", guestAddress("gb"), names);
    const c = new ClusterNames("gc", "guests/gc", guestAddress("gc"), names);
    expect(a.bind({ kind: "path", path: "/run/s" }, { guest: "", socket: 1 })).toBe(0);
    expect(b.lookup({ kind: "path", path: "/run/s" })).toEqual({ guest: "ga", socket: 1 });
    expect(c.lookup({ kind: "path", path: "/run/s" })).toBeUndefined();
  });
});
