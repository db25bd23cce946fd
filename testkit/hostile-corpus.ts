/**
 * Hostile messages for the parsers and for end-to-end runs through Dovecot: every message is a
 * plain byte string that can be stored as a Maildir file and ends with CRLF. The ordinary,
 * well-formed message comes last.
 */

const CRLF = '\r\n';
const MiB = 1024 * 1024;

/** What a test can assert about a message once it went through the pipeline; absent means "only that it is safe". */
export interface HostileExpectation {
  /** the stored summary's subject (after sanitising), or null for none */
  subject?: string | null;
  /** the stored summary's From text (after sanitising) */
  from?: string | null;
  /** the stored summary's Message-ID (after sanitising) */
  messageId?: string | null;
  /** the envelope sender (MAIL FROM), '' for the null sender */
  envelopeSender?: string;
  /** lower-cased addresses the recipient candidates must include, in this order at the start */
  firstCandidates?: string[];
  /**
   * The local accounts (of LOCAL_ACCOUNTS) that must receive the message and no other, with
   * "deliver to recipients in MIME headers" on; absent: whoever, as long as it is delivered.
   */
  deliveredTo?: string[];
}

/** The local accounts a run of the corpus needs, so that every deliveredTo can be checked. */
export const LOCAL_ACCOUNTS = ['ann@local.test', 'zoë@local.test', 'eight@local.test', 'comment@local.test', 'deep@local.test'];

export interface HostileMessage {
  name: string;
  raw: Buffer;
  expect: HostileExpectation;
}

/** A shape that is pathological when large: builds a message that holds about `bytes` of it (in its header section or its body). */
export interface PathologicalShape {
  name: string;
  build(bytes: number): Buffer;
  expect: HostileExpectation;
}

const SENDER = 'sender@remote.example';

/** A message with the usual fields first, then `extra` (raw header text, without its final line break), then a short body. */
function withHeaders(subject: string, extra: string, body = `body${CRLF}`): Buffer {
  const head = [`From: Sender <${SENDER}>`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '-')}@remote.example>`].join(
    CRLF,
  );
  return Buffer.from(head + CRLF + (extra ? extra + CRLF : '') + CRLF + body, 'latin1');
}

/** `unit` repeated until the result has at least `bytes` characters. */
const fill = (unit: string, bytes: number): string => unit.repeat(Math.max(1, Math.ceil(bytes / unit.length)));

/** Lines `line(i)` joined by `separator` until they hold about `bytes`. */
function lines(bytes: number, line: (i: number) => string, separator = CRLF): string {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const l = line(i);
    out.push(l);
    size += l.length + separator.length;
  }
  return out.join(separator);
}

const expectOrdinaryFields = (subject: string): HostileExpectation => ({
  subject,
  from: `"Sender" <${SENDER}>`,
  messageId: `<${subject.replace(/\W/g, '-')}@remote.example>`,
  envelopeSender: SENDER,
});

export const PATHOLOGICAL_SHAPES: readonly PathologicalShape[] = [
  {
    name: 'long Received full of spaces and "for" tokens',
    build: (bytes) =>
      withHeaders(
        'long received',
        `Received: from a.example by b.example for <first@local.test> for ${fill('a@', bytes / 3)}"` +
          `${fill('    for  for\tfor x ', bytes / 3)}; ${fill(' ', bytes / 3)}(x`,
      ),
    expect: { ...expectOrdinaryFields('long received'), firstCandidates: ['first@local.test'] },
  },
  {
    name: 'long Return-Path of "<"',
    build: (bytes) => withHeaders('return path brackets', `Return-Path: ${fill('<', bytes)}`),
    expect: expectOrdinaryFields('return path brackets'),
  },
  {
    name: 'long Return-Path of spaces',
    build: (bytes) => withHeaders('return path spaces', `Return-Path: <${fill(' ', bytes)}x@y`),
    expect: expectOrdinaryFields('return path spaces'),
  },
  {
    name: 'many short header fields',
    build: (bytes) =>
      withHeaders(
        'many fields',
        lines(bytes, (i) => `X-${i % 10}: v`),
      ),
    expect: expectOrdinaryFields('many fields'),
  },
  {
    name: 'one field folded over many continuation lines',
    build: (bytes) => withHeaders('folded field', `To: ${lines(bytes, (i) => ` r${i}@x.test,`, CRLF)}`),
    expect: { ...expectOrdinaryFields('folded field'), firstCandidates: ['r0@x.test', 'r1@x.test', 'r2@x.test'] },
  },
  {
    name: 'lines without colons',
    build: (bytes) =>
      withHeaders(
        'no colons',
        lines(bytes, () => 'a header line without its colon'),
      ),
    expect: expectOrdinaryFields('no colons'),
  },
  {
    name: 'deeply nested comments',
    build: (bytes) => {
      const depth = Math.ceil(bytes / 4);
      return withHeaders(
        'nested comments',
        `To: ${'('.repeat(depth)}${')'.repeat(depth)} <nest@local.test>${CRLF}` +
          `Received: from a by b; Sat, 21 Nov 2026 10:00:00 +0000 ${'('.repeat(depth)}${')'.repeat(depth)}`,
      );
    },
    expect: expectOrdinaryFields('nested comments'),
  },
  {
    name: 'addresses with many quotes, angle brackets, commas, backslashes',
    build: (bytes) => {
      const part = Math.ceil(bytes / 6);
      return withHeaders(
        'quotes and brackets',
        [
          `To: <a@local.test>, ${fill('"', part)}`,
          `Cc: ${fill('<', part)}${fill('>', part)}`,
          `X-RCPT-TO: ${fill(',', part)}`,
          `X-Envelope-To: ${fill('\\', part)}`,
          `Reply-To: ${fill('"<a@b>"', part)}`,
          `Bcc: ${fill('(\\', part)}`,
        ].join(CRLF),
      );
    },
    expect: { ...expectOrdinaryFields('quotes and brackets'), firstCandidates: ['a@local.test'] },
  },
  {
    name: 'long header line',
    build: (bytes) => withHeaders('long header line', `X-Long: ${fill('a', bytes)}`),
    expect: expectOrdinaryFields('long header line'),
  },
  {
    name: 'MIME parts nested deeply',
    build: (bytes) => {
      const depth = Math.ceil(bytes / 64);
      const open = Array.from(
        { length: depth },
        (_, i) => `--d${i}${CRLF}Content-Type: multipart/mixed; boundary="d${i + 1}"${CRLF}${CRLF}`,
      );
      const close = Array.from({ length: depth + 1 }, (_, i) => `--d${depth - i}--${CRLF}`);
      return withHeaders(
        'deep mime',
        `To: deep@local.test${CRLF}MIME-Version: 1.0${CRLF}Content-Type: multipart/mixed; boundary="d0"`,
        `${open.join('')}--d${depth}${CRLF}Content-Type: text/plain${CRLF}${CRLF}leaf${CRLF}${close.join('')}`,
      );
    },
    expect: { ...expectOrdinaryFields('deep mime'), firstCandidates: ['deep@local.test'], deliveredTo: ['deep@local.test'] },
  },
  {
    name: 'many MIME parts',
    build: (bytes) =>
      withHeaders(
        'many parts',
        `To: deep@local.test${CRLF}MIME-Version: 1.0${CRLF}Content-Type: multipart/mixed; boundary="p"`,
        `${lines(bytes, (i) => `--p${CRLF}Content-Type: text/plain; name="p${i}.txt"${CRLF}${CRLF}${i}`)}${CRLF}--p--${CRLF}`,
      ),
    expect: { ...expectOrdinaryFields('many parts'), firstCandidates: ['deep@local.test'], deliveredTo: ['deep@local.test'] },
  },
  {
    name: 'RFC 2231 parameter continuations',
    build: (bytes) =>
      withHeaders(
        'parameter continuations',
        [
          'To: deep@local.test',
          'MIME-Version: 1.0',
          `Content-Type: text/plain; charset=utf-8;${CRLF} ${lines(bytes / 2, (i) => `title*${i}*=${i === 0 ? "utf-8'fr'" : ''}%C3%A9;`, `${CRLF} `)}`,
          `Content-Disposition: attachment;${CRLF} ${lines(bytes / 2, (i) => `filename*${i}="f${i}";`, `${CRLF} `)}`,
        ].join(CRLF),
      ),
    expect: { ...expectOrdinaryFields('parameter continuations'), firstCandidates: ['deep@local.test'], deliveredTo: ['deep@local.test'] },
  },
  {
    name: 'many encoded words in the Subject',
    build: (bytes) =>
      Buffer.from(
        [
          `From: Sender <${SENDER}>`,
          'To: ann@local.test',
          'Message-ID: <encoded-words@remote.example>',
          `Subject: ${lines(bytes, () => '=?utf-8?q?w=C3=A9?=', `${CRLF} `)}`,
          '',
          `body${CRLF}`,
        ].join(CRLF),
        'latin1',
      ),
    // adjacent encoded words are decoded without the space between them; the summary keeps 998 characters
    expect: {
      subject: 'wé'.repeat(499),
      messageId: '<encoded-words@remote.example>',
      envelopeSender: SENDER,
      firstCandidates: ['ann@local.test'],
      deliveredTo: ['ann@local.test'],
    },
  },
  {
    name: 'many encoded words in From display names',
    build: (bytes) =>
      withHeaders(
        'encoded display names',
        `To: ann@local.test${CRLF}From: ${lines(bytes, (i) => `=?utf-8?b?${b64('Zoë')}?= =?iso-8859-1?q?Z=F6e?= <f${i}@remote.example>,`, `${CRLF} `)}`,
      ),
    expect: {
      subject: 'encoded display names',
      envelopeSender: SENDER,
      firstCandidates: ['ann@local.test'],
      deliveredTo: ['ann@local.test'],
    },
  },
  {
    name: '8-bit display names and comments around the addresses',
    build: (bytes) =>
      withHeaders(
        '8-bit display names',
        `To: ${lines(bytes, (i) => `"Zo\xeb \xff\x80${i}" (c\xe9 \xc3) <r${i}@local.test> (\xc3A \xfe),`, `${CRLF} `)}`,
      ),
    expect: { ...expectOrdinaryFields('8-bit display names'), firstCandidates: ['r0@local.test', 'r1@local.test', 'r2@local.test'] },
  },
  {
    name: 'many Subject, From and Message-ID fields',
    build: (bytes) =>
      withHeaders(
        'many summary fields',
        lines(bytes, (i) => [`Subject: s${i}`, `From: f${i}@remote.example`, `Message-ID: <m${i}@remote.example>`][i % 3]),
      ),
    expect: { envelopeSender: SENDER },
  },
];

function recipients(count: number, local: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => `${local(i)}@remote.example`).join(`,${CRLF} `);
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Every hostile message (pathological shapes at 1 MB), then one ordinary message. */
export function hostileCorpus(): HostileMessage[] {
  const shapes = PATHOLOGICAL_SHAPES.map((shape) => ({ name: shape.name, raw: shape.build(MiB), expect: shape.expect }));
  return [
    {
      name: 'NUL in a Q-encoded Subject',
      raw: withHeaders('=?utf-8?q?x=00y?=', ''),
      expect: { subject: 'x\uFFFDy', from: `"Sender" <${SENDER}>`, envelopeSender: SENDER },
    },
    {
      name: 'NUL in a B-encoded Subject',
      raw: withHeaders(`=?utf-8?b?${b64('a\0b')}?=`, ''),
      expect: { subject: 'a\uFFFDb', from: `"Sender" <${SENDER}>`, envelopeSender: SENDER },
    },
    {
      name: 'NUL in From and Message-ID',
      raw: Buffer.from(
        [
          'From: =?utf-8?q?Eve=00Null?= <eve@remote.example>',
          'Subject: nul in from and message-id',
          `Message-ID: =?utf-8?b?${b64('<id\0nul@remote.example>')}?=`,
          '',
          `body${CRLF}`,
        ].join(CRLF),
        'latin1',
      ),
      expect: {
        subject: 'nul in from and message-id',
        from: '"Eve\uFFFDNull" <eve@remote.example>',
        messageId: '<id\uFFFDnul@remote.example>',
        envelopeSender: 'eve@remote.example',
      },
    },
    {
      name: 'lone surrogate in a UTF-16 encoded Subject',
      raw: withHeaders(`=?utf-16be?b?${Buffer.from([0x00, 0x61, 0xd8, 0x00, 0x00, 0x62]).toString('base64')}?=`, ''),
      expect: { subject: 'a\uFFFDb' },
    },
    ...shapes,
    {
      name: '10,000 recipients in To and Cc',
      raw: withHeaders(
        'ten thousand recipients',
        `To: ${recipients(10_000, (i) => `rcpt${i}`)}${CRLF}Cc: ${recipients(10_000, (i) => `cc${i}`)}`,
      ),
      expect: { ...expectOrdinaryFields('ten thousand recipients'), firstCandidates: ['rcpt0@remote.example', 'rcpt1@remote.example'] },
    },
    {
      name: 'bare CR line endings',
      raw: Buffer.from(`From: cr@remote.example\rSubject: bare cr\rTo: cr@local.test\r\rbody line\rlast line${CRLF}`, 'latin1'),
      expect: { subject: 'bare cr', from: 'cr@remote.example', envelopeSender: 'cr@remote.example', firstCandidates: ['cr@local.test'] },
    },
    {
      name: 'bare LF line endings',
      raw: Buffer.from(`From: lf@remote.example\nSubject: bare lf\nTo: lf@local.test\n\nbody line\nlast line${CRLF}`, 'latin1'),
      expect: { subject: 'bare lf', from: 'lf@remote.example', envelopeSender: 'lf@remote.example', firstCandidates: ['lf@local.test'] },
    },
    {
      name: 'unterminated MIME multipart',
      raw: withHeaders(
        'unterminated mime',
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"',
        `--b1${CRLF}Content-Type: text/plain${CRLF}${CRLF}part one${CRLF}--b1${CRLF}Content-Type: multipart/alternative; boundary="b2"${CRLF}${CRLF}--b2${CRLF}${CRLF}never closed${CRLF}`,
      ),
      expect: expectOrdinaryFields('unterminated mime'),
    },
    {
      name: 'overlong body line',
      raw: withHeaders('long body line', '', `${fill('b', 2 * MiB)}${CRLF}`),
      expect: expectOrdinaryFields('long body line'),
    },
    {
      name: 'overlong header line',
      raw: withHeaders('overlong header line', `X-Long: ${fill('h', 2 * MiB)}`),
      expect: expectOrdinaryFields('overlong header line'),
    },
    {
      name: 'invalid UTF-8 and 8-bit bytes in headers',
      raw: Buffer.concat([
        Buffer.from(`From: Caf\xe9 <cafe@remote.example>${CRLF}Subject: caf\xe9 \xff\xfe${CRLF}To: `, 'latin1'),
        Buffer.from('Zoë <zoe@local.test>', 'utf8'),
        Buffer.from(`${CRLF}X-Bytes: \x80\x81\xc3${CRLF}${CRLF}body \xe9${CRLF}`, 'latin1'),
      ]),
      expect: { subject: 'caf\uFFFD \uFFFD\uFFFD', envelopeSender: 'cafe@remote.example', firstCandidates: ['zoe@local.test'] },
    },
    {
      name: 'raw NUL bytes in header values',
      raw: Buffer.from(
        `From: a\0b <nul@remote.example>${CRLF}Subject: raw\0nul${CRLF}To: x\0y@local.test, ok@local.test${CRLF}${CRLF}body${CRLF}`,
        'latin1',
      ),
      expect: { envelopeSender: 'nul@remote.example' },
    },
    {
      name: 'single-line body of 32 MiB',
      raw: withHeaders('huge body line', 'To: ann@local.test', `${fill('b', 32 * MiB)}${CRLF}`),
      expect: { ...expectOrdinaryFields('huge body line'), firstCandidates: ['ann@local.test'], deliveredTo: ['ann@local.test'] },
    },
    {
      name: '1,900 header fields before the recipient',
      raw: withHeaders(
        'fields before the recipient',
        `${Array.from({ length: 1_900 }, (_, i) => `X-${i}: v`).join(CRLF)}${CRLF}To: deep@local.test`,
      ),
      expect: {
        ...expectOrdinaryFields('fields before the recipient'),
        firstCandidates: ['deep@local.test'],
        deliveredTo: ['deep@local.test'],
      },
    },
    {
      name: '8-bit and invalid UTF-8 in every header, display names and comments included',
      raw: Buffer.from(
        [
          'Received: from h\xe9.remote.example (\xff\xfe [192.0.2.1]) by mx.local.test for <ann@local.test> (\xe9\x80); Sat, 21 Nov 2026 10:00:00 +0000',
          'From: "Caf\xe9 \xff" (comm\xe9nt \xc3) <eight-from@remote.example>',
          'To: "Zo\xeb \x80\xff" (c\xe9) <eight@local.test> (\xc3A invalid)',
          'Cc: comment@local.test (Zo\xc3\xab \xfe), =?utf-8?q?x?= \xe9 <deep@local.test>',
          'Subject: eight \xff\xfe bit',
          'Message-ID: <eight\xe9@remote.example>',
          '',
          `body \xe9${CRLF}`,
        ].join(CRLF),
        'latin1',
      ),
      expect: {
        envelopeSender: 'eight-from@remote.example',
        firstCandidates: ['ann@local.test', 'eight@local.test', 'comment@local.test', 'deep@local.test'],
        deliveredTo: ['ann@local.test', 'eight@local.test', 'comment@local.test', 'deep@local.test'],
      },
    },
    {
      name: 'UTF-8 addresses (RFC 6532)',
      raw: Buffer.from(
        [
          'From: =?utf-8?q?Zo=C3=AB?= <sender@remote.example>',
          'To: Zoë <zoë@local.test>',
          'Cc: "ZOË" <ZOË@LOCAL.TEST>, Ännchen <änn@local.test>',
          'Subject: utf-8 addresses',
          'Message-ID: <utf8-addresses@remote.example>',
          '',
          `body${CRLF}`,
        ].join(CRLF),
        'utf8',
      ),
      expect: {
        subject: 'utf-8 addresses',
        envelopeSender: 'sender@remote.example',
        firstCandidates: ['zoë@local.test', 'änn@local.test'],
        deliveredTo: ['zoë@local.test'],
      },
    },
    {
      name: 'ordinary message',
      raw: Buffer.from(
        [
          'Return-Path: <bounce@remote.example>',
          'Received: from mx.remote.example by mx.local.test for <ann@local.test>; Sat, 21 Nov 2026 10:00:00 +0000',
          'From: "Ordinary Sender" <ordinary@remote.example>',
          'To: Ann <ann@local.test>',
          'Subject: =?utf-8?q?an_ordinary_message_=E2=9C=93?=',
          'Message-ID: <ordinary.1@remote.example>',
          'Date: Sat, 21 Nov 2026 10:00:00 +0000',
          'MIME-Version: 1.0',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'Hello Ann.',
          '',
        ].join(CRLF),
        'latin1',
      ),
      expect: {
        subject: 'an ordinary message ✓',
        from: '"Ordinary Sender" <ordinary@remote.example>',
        messageId: '<ordinary.1@remote.example>',
        envelopeSender: 'bounce@remote.example',
        firstCandidates: ['ann@local.test'],
      },
    },
  ];
}
