// The options of a command that talks to a host (--on, --token, --tls-ca), apart
// from the client code itself (cluster-commands.ts): `roam run` and `roam boot`
// list them in their help, yet a local run must not load the WebSocket client.

import type { OptionSpec } from "./args.js";

export const DEFAULT_HOST = "ws://127.0.0.1:7001";

export const CLIENT_OPTIONS: OptionSpec[] = [
  { name: "on", value: "URL", help: `the host to talk to (default: $ROAM_HOST, else ${DEFAULT_HOST})` },
  { name: "token", value: "T", help: "the host's token (default: $ROAM_TOKEN)" },
  { name: "tls-ca", value: "FILE", help: "verify wss:// hosts against this CA (default: $ROAM_TLS_CA, else the system's)" },
];

/** What `roam run` and `roam boot` add for running on a host. */
export const ON_HOST_OPTIONS: OptionSpec[] = [
  { name: "on", value: "URL", help: "run it on this host, not here; `cluster`: on the member the cluster picks\n(the host asked is --via, else $ROAM_HOST)" },
  { name: "via", value: "URL", help: `with --on cluster: the member that picks (default: $ROAM_HOST, else ${DEFAULT_HOST})` },
  { name: "require", value: "L,L", help: "with --on: labels a host must carry to run it, wherever it moves (repeatable)" },
  { name: "prefer", value: "L,L", help: "with --on: labels it should run under (sensitive work: --prefer secure); it starts\nanywhere and moves to a host with them once one has room (repeatable)" },
  { name: "token", value: "T", help: "the host's token (default: $ROAM_TOKEN); with --on" },
  { name: "detach", help: "with --on: print the guest's id and leave it running" },
  { name: "tls-ca", value: "FILE", help: "with --on: verify a wss:// host against this CA (default: $ROAM_TLS_CA)" },
];
