import { randomBytes } from 'node:crypto';

const CRLF = '\r\n';
let counter = 0;

export interface MessageSpec {
  from?: string;
  to?: string;
  headers?: [string, string][];
  subject?: string;
  body?: Buffer | string;
}

/** A CRLF message ending in CRLF: exactly what Dovecot serves back for it. */
export function buildMessage(spec: MessageSpec = {}): Buffer {
  counter++;
  const head = [
    `From: ${spec.from ?? 'Sender <sender@remote.example>'}`,
    `To: ${spec.to ?? 'someone@remote.example'}`,
    `Subject: ${spec.subject ?? `message ${counter}`}`,
    `Message-ID: <${randomBytes(8).toString('hex')}.${counter}@remote.example>`,
    'Date: Sat, 21 Nov 2026 10:00:00 +0000',
    ...(spec.headers ?? []).map(([k, v]) => `${k}: ${v}`),
  ].join(CRLF);
  const body = typeof spec.body === 'string' ? Buffer.from(spec.body, 'latin1') : (spec.body ?? Buffer.from(`body ${counter}${CRLF}`));
  const tail = body.subarray(body.length - 2).toString() === CRLF ? Buffer.alloc(0) : Buffer.from(CRLF);
  return Buffer.concat([Buffer.from(head + CRLF + CRLF, 'latin1'), body, tail]);
}

/** Printable text lines of about `bytes` bytes, base64-looking like an attachment. */
export function textOfSize(bytes: number): Buffer {
  const line = (i: number) =>
    randomBytes(57)
      .toString('base64')
      .replace(/^./, i % 7 === 0 ? 'Q' : 'A');
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const l = line(i);
    lines.push(l);
    size += l.length + 2;
  }
  return Buffer.from(lines.join(CRLF) + CRLF);
}

/**
 * 50 messages of mixed sizes covering what breaks naive clients: a 10 MB one, lines starting
 * with ".", 8-bit non-UTF-8 text, a NUL byte, malformed MIME.
 */
export function mixedCorpus(): Buffer[] {
  const special: Buffer[] = [
    buildMessage({ subject: 'ten megabytes', body: textOfSize(10 * 1024 * 1024) }),
    buildMessage({ subject: 'dots', body: `.leading dot${CRLF}..two dots${CRLF}.${CRLF}. space${CRLF}...${CRLF}end${CRLF}` }),
    buildMessage({
      subject: 'latin1',
      headers: [
        ['Content-Type', 'text/plain; charset=iso-8859-1'],
        ['Content-Transfer-Encoding', '8bit'],
      ],
      body: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe, 0x80, 0x0d, 0x0a]),
    }),
    buildMessage({ subject: 'nul byte', body: Buffer.from('before\u0000after\r\n', 'latin1') }),
    buildMessage({
      subject: 'malformed',
      headers: [
        ['Content-Type', 'multipart/mixed; boundary="never-closed'],
        ['MIME-Version', '1.0'],
      ],
      body: `--never-closed${CRLF}Content-Type: text/plain${CRLF}broken header line without colon${CRLF}${CRLF}part${CRLF}--wrong--${CRLF}`,
    }),
    Buffer.from(`this is not even a header${CRLF}no colon here${CRLF}${CRLF}body${CRLF}`),
    buildMessage({ subject: 'ends with dot line', body: `last line is a dot:${CRLF}.${CRLF}` }),
  ];
  const sizes = [200, 1_000, 3_000, 8_000, 20_000, 60_000, 150_000, 400_000, 1_200_000];
  const rest: Buffer[] = [];
  for (let i = 0; special.length + rest.length < 50; i++) {
    rest.push(buildMessage({ subject: `filler ${i}`, body: textOfSize(sizes[i % sizes.length]) }));
  }
  return [...special, ...rest];
}
