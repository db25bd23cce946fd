const ignore = (): void => undefined;

/**
 * Collects items and commits them in groups bounded by count and bytes, one commit in flight at a
 * time: the caller keeps downloading while the previous group commits. A failed commit surfaces
 * at the next add or drain.
 */
export class GroupCommitter<T> {
  private group: T[] = [];
  private bytes = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly commitGroup: (group: T[]) => Promise<void>,
    private readonly limits: { messages: number; bytes: number },
  ) {}

  async add(item: T, size: number): Promise<void> {
    this.group.push(item);
    this.bytes += size;
    if (this.group.length >= this.limits.messages || this.bytes >= this.limits.bytes) await this.flush();
  }

  /** Starts committing what was collected, after the previous commit finished. */
  private async flush(): Promise<void> {
    if (this.group.length === 0) return;
    const ready = this.group;
    this.group = [];
    this.bytes = 0;
    await this.inFlight;
    this.inFlight = this.commitGroup(ready);
    this.inFlight.catch(ignore); // observed by the next add or drain
  }

  /** Commits the rest and waits for every commit. */
  async drain(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }

  /** Waits for the commit in flight without caring how it ended (after another error). */
  async settle(): Promise<void> {
    await this.inFlight.catch(ignore);
  }
}
