// A malformed or unusable ELF image. The message is one line that names what is
// wrong, so the CLI can print it as `roam: <file>: <message>` and exit.
export class ElfError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ElfError";
  }
}
