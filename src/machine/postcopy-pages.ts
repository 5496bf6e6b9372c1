// RAM pages of a guest that has moved here before all of its memory did
// (postcopy). The run loops of both guest kinds ask it whether a page is here,
// wait on it for one that is not, and run shorter batches while pages are
// still arriving: the page stream shares the host's event loop with the guest,
// and is only taken in between batches. (batchMs also serves the source side
// of a migration, whose freeze likewise waits for the end of a batch.)

export interface PostcopyPages {
  isMissing(page: number): boolean;
  /** Resolves when `page` is here (asking the source for it if nobody has). */
  fetch(page: number): Promise<void>;
  /** True until every page has arrived. */
  readonly arriving: boolean;
}

/**
 * How long a run loop runs the guest before it lets I/O in: shorter while
 * pages arrive, or while a migration is about to freeze the guest.
 */
export function batchMs(pages: PostcopyPages | undefined, freezeSoon: boolean, normal: number): number {
  return pages?.arriving || freezeSoon ? 1 : normal;
}
