import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { MultilineDecoder } from '../../mail/multiline-decoder';

/** RFC 1939 byte-stuffing of a message (which ends in CRLF), plus the terminator. */
function stuff(message: Buffer): Buffer {
  const lines = message.toString('latin1').split('\r\n');
  lines.pop(); // the message ends with CRLF
  return Buffer.from(lines.map((l) => (l.startsWith('.') ? '.' + l : l)).join('\r\n') + '\r\n.\r\n', 'latin1');
}

function decodeInChunks(wire: Buffer, cuts: number[]): { body: Buffer; rest: Buffer } {
  const decoder = new MultilineDecoder();
  const pieces: Buffer[] = [];
  let rest = Buffer.alloc(0);
  let start = 0;
  for (const end of [...cuts, wire.length]) {
    const out = decoder.push(wire.subarray(start, end));
    pieces.push(...out.pieces);
    if (decoder.done) rest = Buffer.concat([rest, out.rest]);
    start = end;
  }
  assert.ok(decoder.done, 'terminator found');
  return { body: Buffer.concat(pieces), rest };
}

describe('MultilineDecoder', () => {
  const message = Buffer.from('.starts with dot\r\n..two\r\nnul \u0000 and 8-bit \u00e9\u00ff\r\n.\r\n\r\n.\r\nend\r\n', 'latin1');

  test('undoes dot-stuffing and keeps every other byte, including the final CRLF', () => {
    assert.ok(decodeInChunks(stuff(message), []).body.equals(message));
  });

  test('gives the same bytes however the stream is cut', () => {
    const wire = stuff(message);
    for (let cut = 0; cut <= wire.length; cut++) {
      assert.ok(decodeInChunks(wire, [cut]).body.equals(message), `cut at ${cut}`);
    }
    for (let i = 0; i < 200; i++) {
      const cuts = [...new Set(Array.from({ length: 6 }, () => Math.floor(Math.random() * wire.length)))].sort((a, b) => a - b);
      assert.ok(decodeInChunks(wire, cuts).body.equals(message), `cuts ${cuts.join(',')}`);
    }
  });

  test('decodes random binary messages byte for byte', () => {
    for (let i = 0; i < 50; i++) {
      const noise = randomBytes(2000).toString('latin1').replace(/\r\n/g, '\n').replace(/\n/g, '\r\n');
      const body = Buffer.from(noise.replace(/\r$/, '') + '\r\n', 'latin1');
      assert.ok(decodeInChunks(stuff(body), [7, 500, 1999]).body.equals(body));
    }
  });

  test('returns what follows the terminator (a pipelined next response)', () => {
    const wire = Buffer.concat([stuff(Buffer.from('a\r\n')), Buffer.from('+OK next\r\n')]);
    assert.equal(decodeInChunks(wire, [3]).rest.toString(), '+OK next\r\n');
  });

  test('an empty body is just the terminator', () => {
    assert.equal(decodeInChunks(Buffer.from('.\r\n'), []).body.length, 0);
  });
});
