const LF = 0x0a;
const CR = 0x0d;

/**
 * Bytes the POP3 server sent that were not read yet, kept as the chunks they arrived in: joining
 * each chunk to the rest would copy quadratically while pipelined answers wait unread.
 */
export class Pop3Inbox {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** the leading chunks already searched for a line end without finding one */
  private searched = 0;

  get length(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /**
   * The next line without its CRLF (or bare LF), or null while no whole line has arrived. Each
   * chunk is searched once while a line is incomplete, so a line sent a byte at a time costs
   * linear time.
   */
  takeLine(): string | null {
    let i = this.searched;
    while (i < this.chunks.length && !this.chunks[i].includes(LF)) i++;
    if (i === this.chunks.length) {
      this.searched = i;
      return null;
    }
    this.searched = 0;
    if (i > 0) this.chunks.splice(0, i + 1, Buffer.concat(this.chunks.slice(0, i + 1)));
    const first = this.chunks[0];
    const end = first.indexOf(LF);
    const stop = end > 0 && first[end - 1] === CR ? end - 1 : end;
    const line = first.toString('latin1', 0, stop);
    if (end + 1 < first.length) this.chunks[0] = first.subarray(end + 1);
    else this.chunks.shift();
    this.bytes -= end + 1;
    return line;
  }

  /** Everything received, in order, leaving the inbox empty. */
  takeAll(): Buffer[] {
    const all = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    this.searched = 0;
    return all;
  }
}
