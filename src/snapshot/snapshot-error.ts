// What a snapshot that cannot be used is refused with: one line, `bad snapshot: <what>`.
export class SnapshotError extends Error {
  constructor(message: string) {
    super(`bad snapshot: ${message}`);
    this.name = "SnapshotError";
  }
}
