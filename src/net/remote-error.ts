// A host's refusal, or a connection lost before its answer: the message is the host's own words.
// Its own file so that the CLI's error reporting (src/cli/failure.ts) can recognise it
// without loading the WebSocket peer (ws, msgpackr) on every command.

export class RemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RemoteError";
  }
}
