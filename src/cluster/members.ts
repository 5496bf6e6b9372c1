// The hosts this host knows as members of its cluster: the only ones it
// connects to on its own (to reach files a guest left there) and sends its
// token to. A URL read from a snapshot is never trusted by itself: a crafted
// checkpoint could otherwise make this host connect anywhere, token in hand.
//
// Until the cluster has a membership protocol (`--join`), a host knows:
//   - the hosts named with `roam host --peer URL`;
//   - the hosts it has migrated a guest to;
//   - the hosts that said their URL in the hello of an authenticated host link
//     (the migration stream of a guest arriving here). A host started without
//     --token authenticates nobody, so it takes every host peer at its word.

export class Members {
  private readonly known = new Set<string>();

  constructor(peers: readonly string[] = []) {
    for (const url of peers) {
      try {
        this.known.add(hostUrlKey(url));
      } catch (error) {
        throw new Error(`--peer ${(error as Error).message}`);
      }
    }
  }

  /** Called with each host learnt after the start (the socket names bound here are told to it). */
  onNew: ((url: string) => void) | undefined;

  /** Adds a host (a URL that did not come from a snapshot); false, and nothing learnt, if it is no ws:// URL. */
  learn(url: string): boolean {
    try {
      const key = hostUrlKey(url);
      if (!this.known.has(key)) { this.known.add(key); this.onNew?.(key); }
      return true;
    } catch {
      return false;
    }
  }

  /** Every host known, in the form hostUrlKey gives. */
  list(): string[] {
    return [...this.known];
  }

  knows(url: unknown): boolean {
    if (typeof url !== "string") return false;
    try {
      return this.known.has(hostUrlKey(url));
    } catch {
      return false;
    }
  }
}

/**
 * The form two spellings of one host URL share ("ws://h:1" and "ws://h:1/");
 * throws a one-line error for anything that is not a ws:// or wss:// URL.
 */
export function hostUrlKey(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${url}: not a URL (expected ws://HOST:PORT)`);
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") throw new Error(`${url}: expected ws://HOST:PORT or wss://`);
  return parsed.href;
}
