import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Pop3Inbox } from '../../mail/pop3-inbox';

/** A line of n bytes arriving a byte at a time, looked for after each byte, as the client does. */
function lineByteByByte(n: number): string | null {
  const inbox = new Pop3Inbox();
  for (let i = 0; i < n; i++) {
    inbox.push(Buffer.from('x'));
    assert.equal(inbox.takeLine(), null);
  }
  inbox.push(Buffer.from('\r\n'));
  return inbox.takeLine();
}

/** Best of several runs, in ms. */
function bestOf(run: () => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

describe('Pop3Inbox', () => {
  test('hands out lines across chunks, CRLF or bare LF, and keeps what follows', () => {
    const inbox = new Pop3Inbox();
    for (const chunk of ['+O', 'K one\r', '\ntwo\nthr', 'ee', '\r\nrest']) inbox.push(Buffer.from(chunk));
    assert.equal(inbox.takeLine(), '+OK one');
    assert.equal(inbox.takeLine(), 'two');
    assert.equal(inbox.takeLine(), 'three');
    assert.equal(inbox.takeLine(), null);
    assert.equal(inbox.length, 4);
    inbox.push(Buffer.from(' of it\n'));
    assert.equal(inbox.takeLine(), 'rest of it');
    assert.equal(inbox.length, 0);
  });

  test('a line sent a byte at a time costs linear time: time(4n) < 10·time(n) + 5 ms', () => {
    assert.equal(lineByteByByte(3), 'xxx');
    const small = (): unknown => lineByteByByte(16_384);
    const large = (): unknown => lineByteByByte(65_536);
    small();
    let t1 = 0;
    let t4 = 0;
    // a garbage collection on a busy machine can spoil one comparison; quadratic growth fails all three
    for (let attempt = 0; attempt < 3; attempt++) {
      t1 = bestOf(small);
      t4 = bestOf(large);
      if (t4 < 10 * t1 + 5) return;
    }
    assert.fail(`${t1.toFixed(2)} ms at n, ${t4.toFixed(2)} ms at 4n`);
  });
});
