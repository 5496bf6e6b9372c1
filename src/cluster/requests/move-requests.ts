// What clients ask of a host to move a guest: migrate it (or one of its
// processes alone), replicate it, cancel a migration, checkpoint it to a
// file, and restore one from a file.

import { MachineGuest } from "../../guest/machine-guest.js";
import { ProcessGuest } from "../../guest/process-guest.js";
import { bool, bytes, num, optStr, ProtocolError, str } from "../../net/protocol.js";
import { decodeSnapshot } from "../../snapshot/snapshot.js";
import { sendCheckpoint, Upload } from "../checkpoints.js";
import { migrateGuest } from "../departures.js";
import type { ClientRequest } from "./index.js";

const migrate: ClientRequest = async (host, peer, m) => {
  const hosted = host.guest(m);
  const alone = optStr(m, "children") === "home";
  host.cluster.refuseDestination(hosted.info, str(m, "to"));
  host.lone.refuseMove(hosted, "migrated", alone);
  if (alone) {
    peer.reply(m, { alone: await host.lone.move(hosted, num(m, "pid", 1, 0x7fffffff), str(m, "to")) });
    return;
  }
  peer.reply(m, { stats: await migrateGuest(host, hosted, peer, m) });
};

const replicate: ClientRequest = async (host, peer, m) => {
  const hosted = host.guest(m);
  peer.reply(m, { replication: await host.replication.replicate(hosted, str(m, "to"), host.epochOf(m), optStr(m, "token") ?? host.token) });
};

const migrateCancel: ClientRequest = async (host, peer, m) => {
  const hosted = host.guest(m);
  if (hosted.operation?.kind !== "migration") throw new ProtocolError(`guest ${hosted.info.id} is not migrating`);
  await hosted.settleOperation("cancelled by a client");
  peer.reply(m, { status: hosted.status, movedTo: hosted.movedTo });
};

/** Like CRIU's dump: the guest stops here and leaves as a snapshot, once the client has it safe (or runs on: --leave-running). */
const checkpoint: ClientRequest = async (host, peer, m) => {
  const hosted = host.guest(m);
  if (hosted.status === "running" && hosted.guest.receivingPages) {
    throw new ProtocolError(`guest ${hosted.info.id} is still receiving its memory by postcopy; checkpoint it once that completes`);
  }
  host.lone.refuseMove(hosted, "checkpointed");
  const leaveRunning = bool(m, "leaveRunning");
  const letGo = () => { hosted.moved("checkpoint"); host.departed(hosted); hosted.release(); host.log(`guest ${hosted.info.id} checkpointed`); };
  await hosted.exclusively("checkpoint", "a checkpoint", (signal) =>
    sendCheckpoint(hosted, peer, m, leaveRunning, host.checkpointSaves, signal, letGo));
  if (leaveRunning) host.log(`guest ${hosted.info.id} checkpointed (left running)`);
};

const checkpointSaved: ClientRequest = async (host, peer, m) => {
  if (!host.checkpointSaves.confirm(str(m, "guest"), peer, m)) throw new ProtocolError(`no checkpoint of ${str(m, "guest")} waits for this client`);
  // answered once the guest is let go
};

const restoreData: ClientRequest = async (host, peer, m) => {
  if (num(m, "offset", 0) === 0) host.uploads.set(peer, new Upload(num(m, "total", 1)));
  const upload = host.uploads.get(peer);
  if (!upload) throw new ProtocolError("restore-data: the first chunk must be at offset 0");
  upload.add(m);
  peer.reply(m);
};

/** restore: a snapshot sent inline or as restore-data chunks runs here (CRIU's restore). */
const restore: ClientRequest = async (host, peer, m, detachers) => {
  const upload = host.uploads.get(peer);
  host.uploads.delete(peer);
  const file = m.snapshot !== undefined ? bytes(m, "snapshot") : upload?.bytes();
  if (!file) throw new ProtocolError("restore: no snapshot (send it inline, or as restore-data chunks first)");
  const snapshot = decodeSnapshot(file);
  host.admit(snapshot.guest);
  const options = await host.guestOptions(snapshot.guest.root, "restore");
  host.admit(snapshot.guest); // again: another arrival may have come while the core loaded
  const guest = snapshot.guest.kind === "machine" ? MachineGuest.restore(options, snapshot) : ProcessGuest.restore(options, snapshot);
  const hosted = host.adopt(guest);
  host.log(`guest ${guest.info.id} restored`);
  if (bool(m, "attach")) detachers.push(host.attach(peer, hosted, guest.console.outputOffset));
  hosted.start();
  if (guest instanceof ProcessGuest) guest.probeRemoteStreams(); // its peers may have gone since the checkpoint
  peer.reply(m, { guest: guest.info });
};

export const MOVE_REQUESTS: Record<string, ClientRequest> = {
  migrate, replicate, "migrate-cancel": migrateCancel, checkpoint, "checkpoint-saved": checkpointSaved, "restore-data": restoreData, restore,
};

