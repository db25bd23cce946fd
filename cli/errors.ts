/** A command line the CLI cannot run: it prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** the usage text of the command (or group) that was meant */
    readonly usage: string,
  ) {
    super(message);
  }
}

/** A command that ran and failed (the API refused, a file is missing): it prints the message and exits 1. */
export class CommandError extends Error {}
