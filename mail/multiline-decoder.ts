const DOT = 0x2e;
const CR = 0x0d;
const LF = 0x0a;
const LF_DOT = Buffer.from('\n.');
const EMPTY = Buffer.alloc(0);

/**
 * Decodes a POP3 multi-line response body (RFC 1939 §3) fed in arbitrary chunks: removes the
 * byte-stuffed leading dot of each line and stops at the CRLF "." CRLF terminator. Every other
 * byte passes through untouched — CRLFs, NULs, 8-bit text — so the result is exactly the message
 * the server holds, including its final CRLF.
 */
export class MultilineDecoder {
  private atLineStart = true;
  private held: Buffer = EMPTY;
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /**
   * Decodes one chunk. Returns the decoded pieces and, once the terminator was seen, the bytes
   * after it (the start of the next response).
   */
  push(chunk: Buffer): { pieces: Buffer[]; rest: Buffer } {
    if (this.finished) return { pieces: [], rest: chunk };
    const buf = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = EMPTY;
    const pieces: Buffer[] = [];
    let pos = 0;
    while (pos < buf.length) {
      if (this.atLineStart) {
        if (buf[pos] === DOT) {
          if (pos + 1 >= buf.length || (buf[pos + 1] === CR && pos + 2 >= buf.length)) {
            this.held = buf.subarray(pos); // cannot tell a stuffed dot from the terminator yet
            break;
          }
          if (buf[pos + 1] === CR && buf[pos + 2] === LF) {
            this.finished = true;
            return { pieces, rest: buf.subarray(pos + 3) };
          }
          pos++; // a stuffed dot
        }
        this.atLineStart = false;
      }
      const next = buf.indexOf(LF_DOT, pos);
      if (next === -1) {
        if (pos < buf.length) pieces.push(buf.subarray(pos));
        this.atLineStart = buf[buf.length - 1] === LF;
        break;
      }
      pieces.push(buf.subarray(pos, next + 1));
      pos = next + 1;
      this.atLineStart = true;
    }
    return { pieces, rest: EMPTY };
  }
}
