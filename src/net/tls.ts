// How links between clients and hosts are secured: the PEM files a host or a
// client is given (--tls-cert, --tls-key, --tls-ca / ROAM_TLS_CA), the TLS
// options of a listening host and of an outgoing connection, the check that a
// host link presented a certificate the CA signed, the constant-time token
// comparison, and the warning for a host open to the network without them.

import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from "node:tls";
import type { ServerOptions } from "node:https";
import { HELLO_TIMEOUT_MS } from "./connection-guard.js";

/** PEM contents. `cert` and `key`: what this end presents; `ca`: what it verifies the other end against. */
export interface TlsIdentity {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

/** Paths given on the command line; `ca` falls back to $ROAM_TLS_CA. */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

/**
 * Reads the files and checks them the way TLS will use them (a certificate
 * and a key that belong together, a CA file holding certificates), so a
 * mistake is one line at start, naming the file, not a failed handshake later.
 * Undefined when nothing is given.
 */
export function loadTls(files: TlsFiles): TlsIdentity | undefined {
  const caPath = files.ca ?? (process.env.ROAM_TLS_CA || undefined);
  const caOption = files.ca !== undefined ? "--tls-ca" : "ROAM_TLS_CA";
  if ((files.cert === undefined) !== (files.key === undefined)) throw new Error("--tls-cert and --tls-key go together: give both or neither");
  if (files.cert === undefined && caPath === undefined) return undefined;
  const identity: TlsIdentity = {
    cert: files.cert === undefined ? undefined : readPem("--tls-cert", files.cert),
    key: files.key === undefined ? undefined : readPem("--tls-key", files.key),
    ca: caPath === undefined ? undefined : readPem(caOption, caPath),
  };
  if (identity.cert) {
    try {
      createSecureContext({ cert: identity.cert, key: identity.key });
    } catch (error) {
      throw new Error(`--tls-cert ${files.cert} with --tls-key ${files.key}: ${(error as Error).message}`);
    }
  }
  if (identity.ca) {
    try {
      createSecureContext({ ca: identity.ca });
    } catch (error) {
      throw new Error(`${caOption} ${caPath}: ${(error as Error).message}`);
    }
  }
  return identity;
}

function readPem(option: string, path: string): Buffer {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (error) {
    throw new Error(`${option} ${path}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  if (!text.includes("-----BEGIN ")) throw new Error(`${option} ${path}: not a PEM file (no -----BEGIN line)`);
  return text;
}

// ---- Outgoing connections -------------------------------------------------------------

let processIdentity: TlsIdentity | undefined;
const hostIdentities = new Map<string, TlsIdentity>();

/** What this process's outgoing connections verify against and present, unless told otherwise (the CLI sets it from its options). */
export function useTls(identity: TlsIdentity | undefined): void {
  processIdentity = identity;
}

/**
 * A host's own identity for the links it opens to other hosts (migrations,
 * their urgent-page channels), found by the name those links say hello with:
 * several hosts in one process (tests, the demo) each present their own.
 */
export function registerHostIdentity(name: string, identity: TlsIdentity | undefined): () => void {
  if (!identity) return () => {};
  hostIdentities.set(name, identity);
  return () => { if (hostIdentities.get(name) === identity) hostIdentities.delete(name); };
}

/**
 * The TLS options for a WebSocket to `url` (none for ws://): the CA to verify
 * the server against (the system's when none is given), and our certificate
 * as a client certificate when we have one.
 */
export function clientTlsOptions(url: string, role: "client" | "host", name: string | undefined, given: TlsIdentity | undefined): Record<string, unknown> {
  if (!url.startsWith("wss:")) return {};
  const identity = given ?? (role === "host" && name !== undefined ? hostIdentities.get(name) : undefined) ?? processIdentity;
  const mine = identity?.cert ? { cert: identity.cert, key: identity.key } : {};
  if (identity?.ca) return { ca: identity.ca, ...mine };
  const extra = extraCaCertificates();
  if (extra === undefined) return mine;
  // cert and key go into the context: tls.connect takes them from there.
  let context = extra.contexts.get(identity?.cert);
  if (!context) extra.contexts.set(identity?.cert, (context = defaultCasWith(extra.pem, mine)));
  return { secureContext: context };
}

/**
 * The certificates of $NODE_EXTRA_CA_CERTS, read at the first connection that verifies against the default CAs, and
 * the contexts made with them, one for each certificate this end presents (or none), made once: a system bundle takes
 * tens of ms to parse. Undefined when the variable is unset or empty, or its file cannot be read (warned once, in
 * Node's words, as Node does at start-up). Node reads the variable as it starts and adds the file to its default CAs, but the `roam` command
 * starts Node without it (bin/roam.js: that was ~50 ms of every start, for runs that open no TLS connection) and puts
 * it back into the environment, so the connections that want it add it here.
 */
function extraCaCertificates(): ExtraCas | undefined {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  if (!path) return undefined;
  if (extraCa?.path !== path) {
    const pem = readExtraCa(path);
    extraCa = { path, found: pem === undefined ? undefined : { pem, contexts: new Map() } };
  }
  return extraCa.found;
}
interface ExtraCas { pem: string; contexts: Map<Buffer | undefined, SecureContext> }
let extraCa: { path: string; found: ExtraCas | undefined } | undefined;

function readExtraCa(path: string): string | undefined {
  let failure: string;
  try {
    const pem = readFileSync(path, "utf8");
    if (pem.includes("-----BEGIN CERTIFICATE-----")) return pem;
    failure = "no PEM certificate in it";
  } catch (error) {
    failure = (error as Error).message;
  }
  process.emitWarning(`Ignoring extra certs from \`${path}\`, load failed: ${failure}`);
  return undefined;
}

/**
 * A context that verifies against Node's default CAs (its bundled ones, or OpenSSL's store in a Node built to use it)
 * and the PEM certificates `extra`, presenting `mine` if given: what Node's own default context is when it has read
 * NODE_EXTRA_CA_CERTS. Node's public options can only replace the default CAs (`ca`), so the certificates go into the
 * context's store as Node itself adds them; a Node without that method gets the bundled CAs and `extra` as `ca`.
 */
function defaultCasWith(extra: string, mine: { cert?: Buffer; key?: Buffer }): SecureContext {
  const context = createSecureContext(mine);
  const store = (context as unknown as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof store?.addCACert !== "function") return createSecureContext({ ...mine, ca: [...rootCertificates, extra] });
  store.addCACert(extra);
  return context;
}

const VERIFY_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "CERT_SIGNATURE_FAILURE", "CERT_UNTRUSTED",
  "CERT_REJECTED", "INVALID_CA", "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** One line for a connection that failed: a certificate we would not trust says so, and what to do. */
export function describeConnectError(url: string, error: Error & { code?: string }): string {
  if (error.code && VERIFY_CODES.has(error.code)) {
    return `cannot verify ${url}: ${error.message.replace(/\s+/g, " ")} (give the CA that signed its certificate with --tls-ca or ROAM_TLS_CA)`;
  }
  return `cannot reach ${url}: ${error.message.replace(/\s+/g, " ")}`;
}

// ---- A listening host -----------------------------------------------------------------

/**
 * The https server options of a host. With a CA it asks every connection for a
 * client certificate but lets one without through the handshake
 * (rejectUnauthorized: false): clients authenticate with the token, and only a
 * connection whose hello says role "host" must have presented one the CA
 * signed (`hostLinkRefusal`).
 */
export function serverTlsOptions(identity: TlsIdentity): ServerOptions {
  return {
    cert: identity.cert, key: identity.key,
    // A handshake is held to the hello's deadline (Node's default is 2 minutes): a stalled one holds a socket for nothing.
    handshakeTimeout: HELLO_TIMEOUT_MS,
    ...(identity.ca ? { ca: identity.ca, requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** Why a connection saying hello as a host is refused here, or undefined when it may go on. */
export function hostLinkRefusal(socket: unknown, identity: TlsIdentity | undefined, hostName: string): string | undefined {
  if (!identity?.ca || !identity.cert) return undefined; // no CA to check against, or not listening with TLS
  const tlsSocket = socket as TLSSocket;
  if (tlsSocket.authorized) return undefined;
  const presented = typeof tlsSocket.getPeerCertificate === "function" && Object.keys(tlsSocket.getPeerCertificate()).length > 0;
  const why = presented ? String(tlsSocket.authorizationError ?? "not verified") : "none presented";
  return `host links must present a certificate signed by ${hostName}'s CA (client certificate: ${why})`;
}

/**
 * Whether a hello's token is the host's. Both are hashed first, so the
 * comparison takes the same time whatever the given token's length, and
 * timingSafeEqual does not stop at the first differing byte.
 */
export function tokensEqual(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The warning for a host that anyone on the network can use: undefined on loopback, or with TLS and a token. */
export function exposureWarning(host: string, port: number, tls: boolean, token: boolean): string | undefined {
  if (isLoopback(host) || (tls && token)) return undefined;
  const missing = [tls ? "" : "TLS", token ? "" : "a token"].filter(Boolean).join(" and ");
  const risk = token
    ? "anyone who can see its traffic can take the token, run code and read the sandbox"
    : "anyone who can reach it can run code and read the sandbox";
  return `roam host: listening on ${host}:${port} without ${missing}: ${risk}`;
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1" || /^::ffff:127\./i.test(bare);
}
