// setsockopt and getsockopt, and a socket's ioctls: the options programs commonly set are accepted
// and reported back as Linux reports them (SO_RCVBUF and SO_SNDBUF doubled,
// "to allow space for bookkeeping overhead"); SO_ERROR, SO_TYPE,
// SO_ACCEPTCONN, SO_DOMAIN and SO_PROTOCOL are read-only. Others are ENOPROTOOPT.

import { Errno } from "../errno.js";
import { AF_UNIX, SOCK_STREAM } from "../sockets/addresses.js";
import { RCVTIMEO_KEY, SNDTIMEO_KEY, type Socket } from "../sockets/socket.js";
import type { SyscallContext } from "../syscalls.js";
import type { Handler } from "./call-args.js";
import { socketOf } from "./sockets.js";

const SOL_SOCKET = 1, IPPROTO_TCP = 6;
const SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_DONTROUTE = 5, SO_BROADCAST = 6, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9;
const SO_OOBINLINE = 10, SO_LINGER = 13, SO_REUSEPORT = 15, SO_PASSCRED = 16, SO_RCVLOWAT = 18, SO_ACCEPTCONN = 30, SO_PROTOCOL = 38, SO_DOMAIN = 39;
const SO_RCVTIMEO = 66, SO_SNDTIMEO = 67; // the 64-bit time (_NEW) numbers riscv32 musl uses: struct { s64 sec, usec }
const SO_RCVTIMEO_OLD = 20, SO_SNDTIMEO_OLD = 21; // struct { s32 sec, usec }
const TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6;
const RMEM_MAX = 212992, WMEM_MAX = 212992; // net.core.rmem_max, wmem_max
const SOCK_MIN_RCVBUF = 2304, SOCK_MIN_SNDBUF = 4608;

/** Flags stored as 0 or 1, as Linux's valbool. */
const BOOLEAN = new Set([SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_REUSEPORT, SO_PASSCRED]);

function defaultOf(socket: Socket, level: number, option: number): number {
  if (level === SOL_SOCKET && option === SO_RCVBUF) return socket.isTcp ? 131072 : 212992;
  if (level === SOL_SOCKET && option === SO_SNDBUF) return socket.isTcp ? 16384 : 212992;
  if (level === SOL_SOCKET && option === SO_RCVLOWAT) return 1;
  if (level === IPPROTO_TCP && option === TCP_MAXSEG) return 536;
  if (level === IPPROTO_TCP && option === TCP_KEEPIDLE) return 7200;
  if (level === IPPROTO_TCP && option === TCP_KEEPINTVL) return 75;
  if (level === IPPROTO_TCP && option === TCP_KEEPCNT) return 9;
  return 0;
}

/** Whether (level, option) is one this socket has: 0, or the errno Linux gives. */
function known(socket: Socket, level: number, option: number): number {
  if (level === SOL_SOCKET) {
    return [SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_DONTROUTE, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_OOBINLINE, SO_LINGER,
      SO_REUSEPORT, SO_PASSCRED, SO_RCVLOWAT, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN, ...TIMEOUTS.keys()].includes(option) ? 0 : -Errno.ENOPROTOOPT;
  }
  if (socket.domain === AF_UNIX) return -Errno.EOPNOTSUPP; // AF_UNIX has no options beyond SOL_SOCKET
  if (level === IPPROTO_TCP) {
    if (!socket.isTcp) return -Errno.ENOPROTOOPT;
    return [TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT].includes(option) ? 0 : -Errno.ENOPROTOOPT;
  }
  return -Errno.ENOPROTOOPT; // "The option is unknown at the level indicated"
}

/** The timeout options: (option) -> [the key their microseconds are kept under, the struct's size]. */
const TIMEOUTS = new Map<number, readonly [string, number]>([
  [SO_RCVTIMEO, [RCVTIMEO_KEY, 16]], [SO_SNDTIMEO, [SNDTIMEO_KEY, 16]], [SO_RCVTIMEO_OLD, [RCVTIMEO_KEY, 8]], [SO_SNDTIMEO_OLD, [SNDTIMEO_KEY, 8]],
]);

/**
 * SO_RCVTIMEO/SO_SNDTIMEO: how long a blocking call waits, in microseconds (0: for ever). "If the timeout is
 * set to zero (the default), then the operation will never timeout"; a bad tv_usec is EDOM, as Linux's sock_set_timeout.
 */
function setTimeout(c: SyscallContext, socket: Socket, option: number, pointer: number, length: number): number {
  const [key, size] = TIMEOUTS.get(option)!;
  if ((length | 0) < size) return -Errno.EINVAL;
  const raw = c.space.read(pointer, size);
  if (!raw) return -Errno.EFAULT;
  const v = new DataView(raw.buffer, raw.byteOffset, size);
  const sec = size === 16 ? Number(v.getBigInt64(0, true)) : v.getInt32(0, true);
  const usec = size === 16 ? Number(v.getBigInt64(8, true)) : v.getInt32(4, true);
  if (usec < 0 || usec >= 1_000_000) return -Errno.EDOM;
  // A negative time waits not at all (one microsecond here); the rest is capped where a deadline stays exact.
  socket.options.set(key, sec < 0 ? 1 : Math.min(sec * 1_000_000 + usec, 2 ** 52));
  return 0;
}

function setsockopt(c: SyscallContext, fd: number, level: number, option: number, pointer: number, length: number): number {
  const s = socketOf(c, fd | 0);
  if (typeof s === "number") return s;
  const { socket } = s;
  const unknown = known(socket, level, option);
  if (unknown < 0) return unknown;
  if (level === SOL_SOCKET && [SO_TYPE, SO_ERROR, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN].includes(option)) return -Errno.ENOPROTOOPT;
  if (level === SOL_SOCKET && TIMEOUTS.has(option)) return setTimeout(c, socket, option, pointer, length);
  const size = option === SO_LINGER ? 8 : 4;
  if ((length | 0) < size) return -Errno.EINVAL; // "optlen is invalid"
  const raw = c.space.read(pointer, size);
  if (!raw) return -Errno.EFAULT; // "The address pointed to by optval is not in a valid part of the process address space"
  const v = new DataView(raw.buffer, raw.byteOffset, size);
  let value = v.getInt32(0, true);
  if (level === SOL_SOCKET && BOOLEAN.has(option)) value = value ? 1 : 0;
  if (level === SOL_SOCKET && option === SO_RCVBUF) value = Math.max(Math.min(value >>> 0, RMEM_MAX) * 2, SOCK_MIN_RCVBUF);
  if (level === SOL_SOCKET && option === SO_SNDBUF) value = Math.max(Math.min(value >>> 0, WMEM_MAX) * 2, SOCK_MIN_SNDBUF);
  if (level === IPPROTO_TCP && option === TCP_NODELAY) value = value ? 1 : 0;
  if (option === SO_LINGER && level === SOL_SOCKET) value = value ? v.getInt32(4, true) + 1 : 0; // l_onoff, l_linger: kept as linger + 1
  socket.options.set(`${level}:${option}`, value);
  return 0;
}

function getsockopt(c: SyscallContext, fd: number, level: number, option: number, pointer: number, lengthPointer: number): number {
  const s = socketOf(c, fd | 0);
  if (typeof s === "number") return s;
  const { socket } = s;
  const unknown = known(socket, level, option);
  if (unknown < 0) return unknown;
  const lengthRaw = c.space.read(lengthPointer, 4);
  if (!lengthRaw) return -Errno.EFAULT;
  const room = new DataView(lengthRaw.buffer, lengthRaw.byteOffset, 4).getInt32(0, true);
  if (room < 0) return -Errno.EINVAL;
  const timeout = level === SOL_SOCKET ? TIMEOUTS.get(option) : undefined;
  const out = new DataView(new ArrayBuffer(timeout ? timeout[1] : option === SO_LINGER && level === SOL_SOCKET ? 8 : 4));
  if (timeout) {
    const us = socket.options.get(timeout[0]) ?? 0;
    if (timeout[1] === 16) { out.setBigInt64(0, BigInt(Math.floor(us / 1e6)), true); out.setBigInt64(8, BigInt(us % 1e6), true); }
    else { out.setInt32(0, Math.floor(us / 1e6), true); out.setInt32(4, us % 1e6, true); }
  } else if (level === SOL_SOCKET && option === SO_LINGER) {
    const stored = socket.options.get(`${level}:${option}`) ?? 0;
    out.setInt32(0, stored ? 1 : 0, true);
    out.setInt32(4, stored ? stored - 1 : 0, true);
  } else out.setInt32(0, valueOf(socket, level, option), true);
  const bytes = new Uint8Array(out.buffer).subarray(0, Math.min(room, out.byteLength));
  if (bytes.length > 0 && !c.space.write(pointer, bytes)) return -Errno.EFAULT;
  return c.space.write(lengthPointer, new Uint8Array(Uint32Array.of(bytes.length).buffer)) ? 0 : -Errno.EFAULT;
}

function valueOf(socket: Socket, level: number, option: number): number {
  if (level === SOL_SOCKET) {
    switch (option) {
      case SO_TYPE: return socket.type;
      case SO_ERROR: return socket.takeError();
      case SO_ACCEPTCONN: return socket.listening ? 1 : 0;
      case SO_DOMAIN: return socket.domain;
      case SO_PROTOCOL: return socket.domain === AF_UNIX ? 0 : socket.type === SOCK_STREAM ? 6 : 17;
    }
  }
  return socket.options.get(`${level}:${option}`) ?? defaultOf(socket, level, option);
}

const FIONREAD = 0x541b, SIOCOUTQ = 0x5411;

/** ioctl(2) of a socket: FIONREAD ("the number of bytes in the input buffer"); SIOCOUTQ is 0 (nothing waits to leave). */
export function socketIoctl(c: SyscallContext, socket: Socket, request: number, arg: number): number {
  if (request !== FIONREAD && request !== SIOCOUTQ) return -Errno.ENOTTY;
  if (socket.listening) return -Errno.EINVAL;
  const value = request === FIONREAD ? socket.received.readable(socket.type === 2) : 0;
  return c.space.write(arg, new Uint8Array(Uint32Array.of(value).buffer)) ? 0 : -Errno.EFAULT;
}

export const SOCKET_OPTION_CALLS = new Map<number, [string, Handler]>([
  [208, ["setsockopt", setsockopt]],
  [209, ["getsockopt", getsockopt]],
]);
