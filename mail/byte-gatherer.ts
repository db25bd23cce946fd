/** Past this many bytes a message is gathered into one buffer instead of a list of pieces. */
export const DIRECT_GATHER_BYTES = 1024 * 1024;

/**
 * Gathers the pieces of one message as they arrive. A small message is joined once at the end; a
 * large one goes straight into one buffer sized by the size the server declared (never more than
 * the caller's bound), so it costs its size once instead of twice (its pieces plus their join).
 * A declaration that was too small only makes the buffer grow; one much too large is given back.
 */
export class ByteGatherer {
  private pieces: Buffer[] = [];
  private buffer: Buffer | null = null;
  private filled = 0;

  /**
   * @param declared the size the server declared (a hint only: it may lie either way)
   * @param max the most bytes the caller will push
   */
  constructor(
    private readonly declared: number,
    private readonly max: number,
  ) {}

  get length(): number {
    return this.filled;
  }

  push(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.buffer === null) {
      this.pieces.push(piece);
      this.filled += piece.length;
      if (this.filled >= DIRECT_GATHER_BYTES) {
        // only once this many bytes arrived does the declared size get a buffer of its own
        this.buffer = Buffer.allocUnsafe(Math.min(Math.max(this.declared, 2 * this.filled), this.max));
        let at = 0;
        for (const p of this.pieces) at += p.copy(this.buffer, at);
        this.pieces = [];
      }
      return;
    }
    if (this.filled + piece.length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(2 * this.buffer.length, this.filled + piece.length), this.max));
      this.buffer.copy(grown, 0, 0, this.filled);
      this.buffer = grown;
    }
    this.filled += piece.copy(this.buffer, this.filled);
  }

  /** The bytes gathered so far, as one buffer. */
  bytes(): Buffer {
    if (this.buffer === null) return this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.filled);
    if (this.filled === this.buffer.length) return this.buffer;
    const used = this.buffer.subarray(0, this.filled);
    return this.filled < this.buffer.length / 2 ? Buffer.from(used) : used;
  }
}
