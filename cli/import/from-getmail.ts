import { DEFAULT_RECIPIENT_HEADERS } from '../../core/recipients';
import { iniBoolean, pythonStrings, type GetmailRc, type IniValue } from './getmailrc';
import { decimal, sizeLimit, type ExternalAccountDraft, type FolderChoice, type ImportPlan, type Unsupported } from './plan';

interface RetrieverType {
  protocol: 'pop3' | 'imap';
  tlsMode: 'detect' | 'direct';
  multidrop: boolean;
}

// Plain getmail retrievers never upgrade; mailpull's "detect" uses STARTTLS/STLS when the server offers it.
const RETRIEVERS: Record<string, RetrieverType> = {
  simplepop3retriever: { protocol: 'pop3', tlsMode: 'detect', multidrop: false },
  simplepop3sslretriever: { protocol: 'pop3', tlsMode: 'direct', multidrop: false },
  // a broken UIDL is what mailpull's content key handles
  brokenuidlpop3retriever: { protocol: 'pop3', tlsMode: 'detect', multidrop: false },
  brokenuidlpop3sslretriever: { protocol: 'pop3', tlsMode: 'direct', multidrop: false },
  simpleimapretriever: { protocol: 'imap', tlsMode: 'detect', multidrop: false },
  simpleimapsslretriever: { protocol: 'imap', tlsMode: 'direct', multidrop: false },
  multidroppop3retriever: { protocol: 'pop3', tlsMode: 'detect', multidrop: true },
  multidroppop3sslretriever: { protocol: 'pop3', tlsMode: 'direct', multidrop: true },
  multidropimapretriever: { protocol: 'imap', tlsMode: 'detect', multidrop: true },
  multidropimapsslretriever: { protocol: 'imap', tlsMode: 'direct', multidrop: true },
};

const REASONS: Record<string, string> = {
  password_command: 'mailpull runs no commands; put the password in the file or set it with external-accounts',
  keyfile: 'client certificates are not supported',
  certfile: 'client certificates are not supported',
  ssl_version: "mailpull uses Node's TLS defaults (TLS 1.2 or newer)",
  ssl_ciphers: "mailpull uses Node's TLS defaults",
  ssl_fingerprints: 'mailpull checks the certificate chain, not a fingerprint',
  ssl_cert_hostname: 'mailpull checks the certificate for the host it connects to',
  use_kerberos: 'Kerberos is not supported',
  use_cram_md5: 'mailpull logs in with a password (USER/PASS, LOGIN, PLAIN), APOP or XOAUTH2',
  use_xoauth2: 'set up OAuth2 on the account (authMethod xoauth2 with a refresh token) through the API',
  timeout: 'the socket timeout is global: MAILPULL_SOCKET_TIMEOUT_MS',
  move_on_delete: 'not supported',
  imap_on_delete: 'not supported',
  imap_search: 'mailpull collects every message it has not delivered',
  record_mailbox: 'mailpull stores messages as received',
  delete_dup_msgids: 'mailpull recognises duplicates by UID and content key',
  delete_bigger_than: 'mailpull leaves messages over the size limit on the server and counts them',
  max_messages_per_session: 'mailpull batches by count and bytes on its own',
  max_bytes_per_session: 'mailpull batches by count and bytes on its own',
  read_all: 'mailpull never delivers a message twice; it collects every message it has not delivered',
  delivered_to: 'mailpull stores messages as received',
  received: 'mailpull stores messages as received',
  message_log: 'mailpull logs to stderr; every cycle is in the Temporal UI',
  message_log_syslog: 'mailpull logs to stderr',
  message_log_verbose: 'mailpull logs to stderr',
  verbose: 'mailpull logs to stderr',
  fingerprint: 'not needed',
  to_oldmail_on_each_mail: 'mailpull records each delivery in its index at once',
};

const reasonFor = (key: string): string => REASONS[key] ?? 'no equivalent in mailpull';

/** The external account one getmailrc describes ([retriever] and [options]), and all it cannot carry over ([destination], filters). */
export function fromGetmailrc(rc: GetmailRc, ownerAddress: string, file: string): ImportPlan {
  const retriever = rc.get('retriever') ?? new Map<string, IniValue>();
  const options = rc.get('options') ?? new Map<string, IniValue>();
  const unsupported: Unsupported[] = [];
  const get = (key: string): string | undefined => retriever.get(key)?.value;
  const typeName = get('type') ?? '';
  const type = RETRIEVERS[typeName.toLowerCase()];
  let problem: string | null = type ? null : `retriever type "${typeName}" is not supported (POP3 and IMAP retrievers only)`;
  const protocol = type?.protocol ?? 'pop3';

  let port: number | undefined;
  let authMethod: ExternalAccountDraft['authMethod'] = 'password';
  let folders: FolderChoice = { mode: 'inbox' };
  let tlsCaFile: string | null = null;
  let envelope: string | null = null;
  for (const [key, { value }] of retriever) {
    switch (key) {
      case 'type':
      case 'server':
      case 'username':
      case 'password':
        break;
      case 'port': {
        const n = decimal(value);
        if (n && n <= 65535) port = n;
        else problem ??= `port "${value}" is not a port number`;
        break;
      }
      case 'use_apop':
        if (iniBoolean(value) && protocol === 'pop3') authMethod = 'apop';
        break;
      case 'mailboxes': {
        const names = value.trim().toUpperCase() === 'ALL' ? 'all' : pythonStrings(value);
        if (names === null) unsupported.push({ option: `mailboxes = ${value}`, reason: 'not a tuple of folder names' });
        else if (protocol !== 'imap') unsupported.push({ option: `mailboxes = ${value}`, reason: 'POP3 has only one folder' });
        else if (names === 'all') folders = { mode: 'all', exclude: [] };
        else if (!(names.length === 1 && names[0].toUpperCase() === 'INBOX')) folders = { mode: 'list', names };
        break;
      }
      case 'ca_certs':
        tlsCaFile = value;
        break;
      // getmail's IMAP retrievers peek by default, as mailpull does
      case 'use_peek':
        if (iniBoolean(value) === false)
          unsupported.push({ option: `use_peek = ${value}`, reason: 'mailpull does not mark collected messages as read' });
        break;
      case 'envelope_recipient':
        if (type?.multidrop) envelope = value.split(':')[0];
        else
          unsupported.push({ option: `envelope_recipient = ${value}`, reason: 'only multidrop retrievers read recipients from headers' });
        break;
      default:
        unsupported.push({ option: `${key} = ${value}`, reason: reasonFor(key) });
    }
  }

  let deletePolicy: ExternalAccountDraft['deletePolicy'] = 'never';
  let maxMessageBytes: number | null = null;
  const deleteNow = iniBoolean(options.get('delete')?.value ?? 'false') === true;
  for (const [key, { value }] of options) {
    switch (key) {
      case 'delete':
        break;
      case 'delete_after': {
        const days = decimal(value);
        if (days === null) unsupported.push({ option: `delete_after = ${value}`, reason: 'not a number of days' });
        else if (!deleteNow && days > 0) deletePolicy = { afterDays: days };
        break;
      }
      case 'read_all':
        if (iniBoolean(value) !== false) unsupported.push({ option: `read_all = ${value}`, reason: reasonFor(key) });
        break;
      case 'max_message_size': {
        const bytes = decimal(value);
        if (bytes === null) unsupported.push({ option: `max_message_size = ${value}`, reason: 'not a number of bytes' });
        else maxMessageBytes = sizeLimit(bytes, `max_message_size = ${value}`, unsupported);
        break;
      }
      default:
        unsupported.push({ option: `${key} = ${value}`, reason: reasonFor(key) });
    }
  }
  if (deleteNow) deletePolicy = 'immediately';

  const destination = rc.get('destination');
  if (destination) {
    const what = [...destination].map(([k, v]) => `${k}=${v.value}`).join(' ');
    unsupported.push({
      option: `[destination] ${what}`,
      reason: "mailpull delivers into the owner account (its built-in store or its domain's delivery target)",
    });
  }
  for (const name of rc.keys()) {
    if (!['retriever', 'options', 'destination'].includes(name)) {
      unsupported.push({
        option: `[${name}]`,
        reason: name.startsWith('filter') ? 'mailpull runs no filters' : 'not a getmail section mailpull knows',
      });
    }
  }

  const host = get('server') ?? '';
  const username = get('username') ?? '';
  const password = get('password');
  if (!host) problem ??= '[retriever] has no server';
  if (!username) problem ??= '[retriever] has no username';
  if (password === undefined) problem ??= 'no password in the file (getmail would ask, or run password_command); add "password = ..."';

  const account: ExternalAccountDraft = {
    name: `${username}@${host}`.slice(0, 200),
    enabled: true,
    protocol,
    host,
    ...(port !== undefined ? { port } : {}),
    tlsMode: type?.tlsMode ?? 'detect',
    allowInvalidCertificates: false,
    authMethod,
    username,
    ...(password !== undefined ? { password } : {}),
    folders,
    push: false,
    maxMessageBytes,
    deletePolicy,
    ...(type?.multidrop
      ? { mimeRecipients: { enabled: true, headers: envelope ? [envelope, ...DEFAULT_RECIPIENT_HEADERS] : [...DEFAULT_RECIPIENT_HEADERS] } }
      : {}),
  };
  const line = retriever.get('type')?.line ?? 1;
  return {
    entries: [{ source: `${file} [retriever] (line ${line})`, owners: [ownerAddress], account, tlsCaFile, unsupported, problem }],
    global: [],
  };
}
