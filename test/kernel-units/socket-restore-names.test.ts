// A destination restores a guest's sockets more than once (the prestate, then
// the final state): a name still held by the same socket must stay bound in
// between, never unbound and bound again. Cluster-wide, an unbind is told to
// every host, and a datagram sent in that moment found nobody (ECONNREFUSED).
import { describe, expect, test } from "vitest";
import { guestAddress, SOCK_DGRAM, SOCK_STREAM, AF_INET, type SocketName } from "../../src/kernel/sockets/addresses.js";
import { LocalNames, type SocketRef } from "../../src/kernel/sockets/names.js";
import { Sockets } from "../../src/kernel/sockets/table.js";

/** LocalNames that records every bind and unbind it is asked for. */
class RecordingNames extends LocalNames {
  readonly calls: string[] = [];
  bind(name: SocketName, socket: SocketRef): number {
    this.calls.push(`bind ${socket.socket} ${JSON.stringify(name)}`);
    return super.bind(name, socket);
  }
  unbind(name: SocketName, socket: SocketRef): void {
    this.calls.push(`unbind ${socket.socket} ${JSON.stringify(name)}`);
    super.unbind(name, socket);
  }
}

const address = guestAddress("restore-names");
const udp7000: SocketName = { kind: "inet", protocol: "udp", address, port: 7000 };
const tcp8000: SocketName = { kind: "inet", protocol: "tcp", address, port: 8000 };

/** A source table with a UDP socket on 7000 and a TCP one on 8000: its state. */
function sourceState() {
  const source = new Sockets(new LocalNames(), address, () => {});
  for (const [type, name] of [[SOCK_DGRAM, udp7000], [SOCK_STREAM, tcp8000]] as const) {
    const socket = source.create(AF_INET, type, 0);
    socket.name = name;
    expect(source.names.bind(name, source.ref(socket))).toBe(0);
  }
  return source.state();
}

describe("restoring a guest's sockets twice", () => {
  test("names held by the same sockets stay bound: no unbind, no second bind", () => {
    const names = new RecordingNames();
    const destination = new Sockets(names, address, () => {});
    const state = sourceState();
    destination.restore(state);
    expect(names.calls.filter((c) => c.startsWith("bind"))).toHaveLength(2);
    names.calls.length = 0;
    destination.restore(state);
    expect(names.calls).toEqual([]);
    expect(names.lookup(udp7000)?.socket).toBe(state.sockets[0].id);
  });

  test("a name the new state no longer has is unbound; a new one is bound", () => {
    const names = new RecordingNames();
    const destination = new Sockets(names, address, () => {});
    const state = sourceState();
    destination.restore(state);
    names.calls.length = 0;
    const closedTcp = { ...state, sockets: state.sockets.filter((s) => s.name?.kind === "inet" && s.name.protocol === "udp") };
    destination.restore(closedTcp);
    expect(names.calls).toEqual([`unbind ${state.sockets[1].id} ${JSON.stringify(tcp8000)}`]);
    expect(names.lookup(tcp8000)).toBeUndefined();
    expect(names.lookup(udp7000)?.socket).toBe(state.sockets[0].id);
  });
});
