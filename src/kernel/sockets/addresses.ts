// Socket addresses as a guest passes them (struct sockaddr_un, struct
// sockaddr_in) and the names they bind: what bind(2), connect(2) and sendto(2)
// read, and what getsockname(2), getpeername(2), accept(2) and recvfrom(2)
// write back. The errors are the ones Linux's unix_validate_addr and
// inet_bind/inet_dgram_connect give for each malformed address.

import { Errno } from "../errno.js";

export const AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
export type Domain = typeof AF_UNIX | typeof AF_INET;
export type SocketType = typeof SOCK_STREAM | typeof SOCK_DGRAM | typeof SOCK_SEQPACKET;

/** "sizeof(struct sockaddr_storage)": longer addresses are EINVAL before any family looks at them. */
export const SOCKADDR_STORAGE = 128;
const SUN_PATH = 108; // sizeof(sockaddr_un.sun_path)
const SOCKADDR_IN = 16;

/** 127.0.0.1, INADDR_ANY, as host-order numbers. */
export const LOOPBACK = 0x7f000001, INADDR_ANY = 0;

/**
 * A name a socket binds or looks up: a path in the guest's files, a name in the
 * abstract namespace (hex of its bytes), or an IPv4 address and port of a protocol.
 * Plain data: it travels in a snapshot and is what a SocketNames implementation keys on.
 */
export type SocketName =
  | { kind: "path"; path: string }
  | { kind: "abstract"; name: string; type: number } // Linux hashes abstract names by socket type: each type has its own
  | { kind: "inet"; protocol: "tcp" | "udp"; address: number; port: number };

/** A parsed struct sockaddr_un. */
export type UnixAddress = { kind: "unnamed" } | { kind: "path"; path: string } | { kind: "abstract"; name: Uint8Array };

/**
 * A struct sockaddr_un of `length` bytes. "unnamed" is the bare family (bind:
 * autobind). Linux: "addr_len <= offsetof(sun_path) || addr_len > sizeof(sockaddr_un)"
 * and a wrong family are EINVAL.
 */
export function parseUnix(raw: Uint8Array, forBind: boolean): UnixAddress | number {
  if (raw.length < 2 || raw.length > 2 + SUN_PATH) return -Errno.EINVAL;
  if (raw[0] + (raw[1] << 8) !== AF_UNIX) return -Errno.EINVAL;
  if (raw.length === 2) return forBind ? { kind: "unnamed" } : -Errno.EINVAL;
  if (raw[2] === 0) return { kind: "abstract", name: raw.slice(3) };
  const path = raw.subarray(2);
  const nul = path.indexOf(0);
  return { kind: "path", path: Buffer.from(nul < 0 ? path : path.subarray(0, nul)).toString("latin1") };
}

/** The sockaddr_un getsockname reports for `address`: a path with its NUL (as Linux stores it), an abstract name as given. */
export function unixSockaddr(address: UnixAddress): Uint8Array {
  if (address.kind === "unnamed") return Uint8Array.of(AF_UNIX, 0);
  if (address.kind === "abstract") return Uint8Array.from([AF_UNIX, 0, 0, ...address.name]);
  return Uint8Array.from([AF_UNIX, 0, ...Buffer.from(address.path, "latin1"), 0]);
}

export interface InetAddress { address: number; port: number }

/**
 * A struct sockaddr_in of `length` bytes: shorter than 16 is EINVAL; another
 * family EAFNOSUPPORT (AF_UNSPEC with INADDR_ANY binds as AF_INET, as Linux allows for bind).
 */
export function parseInet(raw: Uint8Array, forBind: boolean): InetAddress | number {
  if (raw.length < 2) return -Errno.EINVAL;
  const family = raw[0] + (raw[1] << 8);
  if (raw.length < SOCKADDR_IN) return -Errno.EINVAL;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const address = v.getUint32(4, false), port = v.getUint16(2, false);
  if (family !== AF_INET && !(forBind && family === AF_UNSPEC && address === INADDR_ANY)) return -Errno.EAFNOSUPPORT;
  return { address, port };
}

export function inetSockaddr(a: InetAddress): Uint8Array {
  const out = new Uint8Array(SOCKADDR_IN);
  const v = new DataView(out.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, a.port, false);
  v.setUint32(4, a.address, false);
  return out;
}

export function inetOf(sockaddr: Uint8Array): InetAddress {
  const v = new DataView(sockaddr.buffer, sockaddr.byteOffset, sockaddr.length);
  return { address: v.getUint32(4, false), port: v.getUint16(2, false) };
}

/** The family-only address of a socket that has no name: what Linux reports for an unbound socket. */
export function unnamed(domain: Domain): Uint8Array {
  return domain === AF_UNIX ? unixSockaddr({ kind: "unnamed" }) : inetSockaddr({ address: INADDR_ANY, port: 0 });
}

/**
 * The guest's own IPv4 address on the virtual network: 10.77.0.0/16, the host
 * part (1..65534) an FNV-1a hash of the guest's id, so a guest keeps it for as
 * long as it lives, wherever it runs (it travels in the snapshot too).
 */
export function guestAddress(guestId: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(guestId, "utf8")) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return ((10 << 24) | (77 << 16)) + 1 + (h % 65534);
}

export const isLoopback = (address: number) => address >>> 24 === 127;

export function dottedQuad(address: number): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join(".");
}

/** A name as text, for messages and strace. */
export function describeName(name: SocketName): string {
  if (name.kind === "path") return name.path;
  if (name.kind === "abstract") return "@" + Buffer.from(name.name, "hex").toString("latin1");
  return `${name.protocol}:${dottedQuad(name.address)}:${name.port}`;
}
