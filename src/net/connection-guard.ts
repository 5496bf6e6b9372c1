// Limits on a connection that has not earned trust: a host closes one that
// has not said hello within a few seconds, and one whose frame has been
// arriving for too long (a peer that dribbles a frame byte by byte holds a
// buffer and a socket for nothing). Frames are bounded in size by the
// WebSocket server (maxPayload).

import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { nowMs } from "../machine/host-clock.js";

export const HELLO_TIMEOUT_MS = 5_000;
/** A 64 MiB frame at 10 MB/s takes ~7 s; nothing we send takes near this long. */
export const FRAME_TIMEOUT_MS = 30_000;

export interface Guard {
  /** The peer said hello: the hello deadline no longer applies. */
  greeted(): void;
}

/** Watches `ws` (over `socket`); calls `close(reason)` once, and terminates it, when a limit is passed. */
export function guardConnection(ws: WebSocket, socket: Socket, close: (reason: string) => void, limits = { helloMs: HELLO_TIMEOUT_MS, frameMs: FRAME_TIMEOUT_MS }): Guard {
  let pendingSince = 0; // since when part of a frame has sat in the receiver without a frame completing (0: none)
  const end = (reason: string) => {
    stop();
    close(reason);
    ws.terminate();
  };
  const hello = setTimeout(() => end(`no hello within ${limits.helloMs / 1000} s`), limits.helloMs);
  const watch = setInterval(() => {
    if (!partFrameWaiting(ws, socket)) pendingSince = 0;
    else if (!pendingSince) pendingSince = nowMs();
    else if (nowMs() - pendingSince > limits.frameMs) end(`a frame took over ${limits.frameMs / 1000} s to arrive`);
  }, Math.min(250, limits.frameMs / 4));
  hello.unref();
  watch.unref();
  const stop = () => { clearTimeout(hello); clearInterval(watch); };
  // A frame completed: whatever is waiting now belongs to a newer one (a busy stream is never "dribbling").
  const complete = () => { pendingSince = 0; };
  ws.on("message", complete);
  ws.on("ping", complete);
  ws.on("pong", complete);
  ws.once("close", stop);
  return { greeted: () => clearTimeout(hello) };
}

/**
 * Whether part of a frame waits in the WebSocket's receiver for the rest. ws
 * keeps the count in a private field (`_receiver._bufferedBytes`, stable
 * across ws 7 and 8); without it, a socket that has read bytes is taken to.
 */
function partFrameWaiting(ws: WebSocket, socket: Socket): boolean {
  const receiver = (ws as unknown as { _receiver?: { _bufferedBytes?: number } })._receiver;
  if (typeof receiver?._bufferedBytes === "number") return receiver._bufferedBytes > 0;
  return socket.readableLength > 0;
}
