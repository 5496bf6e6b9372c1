// A client's requests to a host, by area, each a function of its own
// (guest-requests.ts: run, ps, attach, input, kill, stats; move-requests.ts:
// migrate, replicate, checkpoint, restore; the cluster's: cluster, place).
// Host.request looks the message type up here.

import type { Peer } from "../../net/peer.js";
import type { Message } from "../../net/protocol.js";
import type { Host } from "../host.js";
import { GUEST_REQUESTS } from "./guest-requests.js";
import { MOVE_REQUESTS } from "./move-requests.js";

/** The host as its request handlers see it. */
export type RequestHost = Host;

/** Handles one client request: answers it on `peer` (or throws, answered as an error); `detachers` end what it attached. */
export type ClientRequest = (host: RequestHost, peer: Peer, m: Message, detachers: Array<() => void>) => Promise<void>;

const clusterView: ClientRequest = async (host, peer, m) => { peer.reply(m, host.cluster.serveClient(m)); };

export const CLIENT_REQUESTS: Record<string, ClientRequest> = { ...GUEST_REQUESTS, ...MOVE_REQUESTS, cluster: clusterView, place: clusterView };
