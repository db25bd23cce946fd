import { DEFAULT_RECIPIENT_HEADERS } from '../../core/recipients';
import type { FetchmailRc, PollEntry, RcOption, UserEntry } from './fetchmailrc';
import {
  decimal,
  sizeLimit,
  type ExternalAccountDraft,
  type FolderChoice,
  type ImportEntry,
  type ImportPlan,
  type Unsupported,
} from './plan';

const DELIVERY = "mailpull delivers into the owner account (its built-in store or its domain's delivery target), not through an MTA or MDA";

/** Why each option without an equivalent has none; options not named here get a generic reason. */
const REASONS: Record<string, string> = {
  mda: DELIVERY,
  smtp: DELIVERY,
  smtphost: DELIVERY,
  smtphosts: DELIVERY,
  bsmtp: DELIVERY,
  lmtp: DELIVERY,
  smtpname: DELIVERY,
  smtpaddress: DELIVERY,
  fetchdomains: DELIVERY,
  antispam: DELIVERY,
  esmtpname: DELIVERY,
  esmtppassword: DELIVERY,
  rewrite: 'mailpull stores messages as received, never rewriting headers',
  stripcr: 'mailpull stores messages as received',
  forcecr: 'mailpull stores messages as received',
  pass8bits: 'mailpull stores messages as received',
  mimedec: 'mailpull stores messages as received',
  mimedecode: 'mailpull stores messages as received',
  pass8: 'mailpull stores messages as received',
  dropstatus: 'mailpull stores messages as received',
  dropdelivered: 'mailpull stores messages as received',
  flush: 'mailpull never deletes a message it has not delivered; use a delete policy',
  limitflush: 'mailpull leaves messages over the size limit on the server and counts them (lastRun.tooLarge)',
  fetchlimit: 'mailpull batches by count and bytes on its own',
  fetchsizelimit: 'mailpull batches by count and bytes on its own',
  batchlimit: 'mailpull batches by count and bytes on its own',
  fastuidl: 'mailpull always compares UIDs with its index',
  expunge: 'mailpull expunges after each delivered batch',
  timeout: 'the socket timeout is global: MAILPULL_SOCKET_TIMEOUT_MS',
  pre: 'mailpull runs no commands',
  preconnect: 'mailpull runs no commands',
  post: 'mailpull runs no commands',
  postconnect: 'mailpull runs no commands',
  plugin: 'mailpull runs no commands',
  plugout: 'mailpull runs no commands',
  sslcert: 'client certificates are not supported',
  sslkey: 'client certificates are not supported',
  sslcertpath: 'give one PEM file with sslcertfile instead of a certificate directory',
  sslcommonname: 'mailpull checks the certificate for the host name',
  aka: 'multidrop DNS matching: mailpull delivers to local accounts named in the headers',
  local: 'multidrop DNS matching: mailpull delivers to local accounts named in the headers',
  localdomains: 'multidrop DNS matching: mailpull delivers to local accounts named in the headers',
  qvirtual: 'multidrop: mailpull delivers to local accounts named in the headers',
  dns: 'mailpull does no DNS checks on recipients',
  checkalias: 'mailpull does no DNS checks on recipients',
  interface: 'not supported',
  monitor: 'not supported',
  principal: 'Kerberos is not supported',
  tracepolls: 'every cycle is visible in the Temporal UI',
  showdots: 'not needed',
  warnings: 'oversized messages are counted in the account status',
  properties: 'not used by mailpull',
  'bad-header': 'mailpull delivers unparseable messages raw',
  idfile: 'mailpull keeps its UID index in PostgreSQL',
  logfile: 'mailpull logs to stderr; every cycle is in the Temporal UI',
  syslog: 'mailpull logs to stderr',
  pidfile: 'not needed',
  postmaster: 'undeliverable messages go to the quarantine (mailpull quarantine list)',
  bouncemail: 'mailpull never bounces; refused messages go to the quarantine',
  spambounce: 'mailpull never bounces',
  softbounce: 'mailpull never bounces; refused messages go to the quarantine',
  invisible: 'mailpull stores messages as received',
};

const reasonFor = (name: string): string => REASONS[name] ?? 'no equivalent in mailpull';
const show = (o: RcOption): string => `${o.negated ? 'no ' : ''}${o.name}${o.args.length ? ' ' + o.args.map(quoteIfNeeded).join(' ') : ''}`;
const quoteIfNeeded = (s: string): string => (s === '' || /[\s"]/.test(s) ? JSON.stringify(s) : s);

const SERVICES: Record<string, number> = { pop3: 110, pop3s: 995, imap: 143, imaps: 993, imap2: 143 };
// TLS versions mailpull (Node's defaults: TLS 1.2 or newer) matches exactly
const SSLPROTO_MATCHED = new Set(['auto', 'tls1.2+']);

/**
 * The external accounts a .fetchmailrc describes, one per user of each poll entry (skip entries
 * become disabled accounts), with every option mailpull has no equivalent for.
 */
export function fromFetchmailrc(rc: FetchmailRc, ownerAddress: string): ImportPlan {
  const global: Unsupported[] = [];
  let daemonSeconds: number | null = null;
  for (const g of rc.globals) {
    if (g.name === 'daemon' && decimal(g.args[0]) !== null) daemonSeconds = decimal(g.args[0]);
    else global.push({ option: `set ${show(g)}`, reason: reasonFor(g.name) });
  }
  const entries: ImportEntry[] = [];
  let defaults: RcOption[] = [];
  for (const poll of rc.polls) {
    if (poll.kind === 'defaults') {
      defaults = [...defaults, ...poll.options, ...poll.users.flatMap((u) => u.options)];
      continue;
    }
    const users: UserEntry[] = poll.users.length ? poll.users : [{ remote: '', locals: [], line: poll.line, options: [] }];
    for (const user of users)
      entries.push(translate(poll, user, [...defaults, ...poll.options, ...user.options], daemonSeconds, ownerAddress));
  }
  return { entries, global };
}

function translate(poll: PollEntry, user: UserEntry, options: RcOption[], daemonSeconds: number | null, ownerAddress: string): ImportEntry {
  const unsupported: Unsupported[] = [];
  const label = poll.label ?? '';
  let host = label;
  let protocolName = 'auto';
  let port: number | undefined;
  let password: string | undefined;
  let ssl = false;
  let sslproto: string | null = null;
  let certCheck = true;
  let fingerprint = false;
  let tlsCaFile: string | null = null;
  let keep = false;
  let folders: string[] = [];
  let idle = false;
  let maxMessageBytes: number | null = null;
  let intervalCycles = 1;
  let envelope: string | null = null;
  let authMethod: ExternalAccountDraft['authMethod'] = 'password';
  const later: RcOption[] = [];

  for (const o of options) {
    const value = o.args[o.args.length - 1];
    switch (o.name) {
      case 'via':
        host = value;
        break;
      case 'proto':
      case 'protocol':
        protocolName = value.toLowerCase();
        break;
      case 'port':
      case 'service': {
        const n = decimal(value) ?? SERVICES[value.toLowerCase()];
        if (n && n <= 65535) port = n;
        else unsupported.push({ option: show(o), reason: 'not a port number or a known service name' });
        break;
      }
      case 'pass':
      case 'password':
        password = value;
        break;
      case 'ssl':
        ssl = !o.negated;
        break;
      case 'sslproto':
        sslproto = o.negated ? null : value;
        break;
      case 'sslcertck':
        certCheck = !o.negated;
        break;
      case 'sslfingerprint':
        fingerprint = !o.negated;
        unsupported.push({
          option: show(o),
          reason:
            "mailpull checks the certificate chain, not a fingerprint (give a self-signed server's certificate with sslcertfile); TLS stays required and the certificate checked",
        });
        break;
      case 'sslcertfile':
        tlsCaFile = value;
        break;
      case 'keep':
        keep = !o.negated;
        break;
      // mailpull collects every message it has not delivered before, read or not
      case 'fetchall':
        break;
      case 'folder':
      case 'folders':
        folders = o.args;
        break;
      case 'idle':
        idle = !o.negated;
        break;
      case 'limit':
        maxMessageBytes = decimal(value) === null ? null : sizeLimit(decimal(value) ?? 0, show(o), unsupported);
        break;
      case 'interval':
        intervalCycles = Math.max(1, decimal(value) ?? 1);
        break;
      case 'envelope':
        envelope = o.negated ? null : value;
        break;
      case 'auth':
      case 'authenticate':
      case 'preauth':
      case 'preauthenticate': {
        const kind = value.toLowerCase();
        if (kind === 'password' || kind === 'any') authMethod = 'password';
        else unsupported.push({ option: show(o), reason: 'mailpull logs in with a password (USER/PASS, LOGIN, PLAIN), APOP or XOAUTH2' });
        break;
      }
      case 'uidl':
        // mailpull always keeps a UID index (POP3 UIDL, IMAP UIDs), falling back to a content key
        if (o.negated) unsupported.push({ option: show(o), reason: 'mailpull uses UIDL whenever the server offers it' });
        break;
      default:
        later.push(o);
    }
  }
  for (const o of later) unsupported.push({ option: show(o), reason: reasonFor(o.name) });

  let problem: string | null = null;
  let protocol: ExternalAccountDraft['protocol'] = 'pop3';
  if (protocolName === 'pop3') protocol = 'pop3';
  else if (protocolName === 'apop') authMethod = 'apop';
  else if (protocolName === 'imap') protocol = 'imap';
  else if (protocolName === 'auto') {
    protocol = port === 110 || port === 995 ? 'pop3' : 'imap';
    unsupported.push({
      option: 'protocol auto',
      reason: `mailpull does not probe protocols; imported as ${protocol}, set it in the rc file to be sure`,
    });
  } else problem = `protocol ${protocolName} is not supported (POP3 and IMAP only)`;

  const tlsMode = fetchmailTlsMode({ ssl, sslproto, certCheck, fingerprint });
  if (sslproto !== null && sslproto !== '' && !SSLPROTO_MATCHED.has(sslproto.toLowerCase())) {
    unsupported.push({
      option: `sslproto ${sslproto}`,
      reason: "mailpull uses Node's TLS defaults (TLS 1.2 or newer); the version cannot be pinned",
    });
  }

  let folderChoice: FolderChoice = { mode: 'inbox' };
  const onlyInbox = folders.length === 1 && folders[0].toUpperCase() === 'INBOX';
  if (folders.length && protocol === 'imap' && !onlyInbox) folderChoice = { mode: 'list', names: folders };
  else if (folders.length && protocol !== 'imap')
    unsupported.push({ option: `folder ${folders.join(',')}`, reason: 'POP3 has only one folder' });
  if (idle && protocol === 'pop3') unsupported.push({ option: 'idle', reason: 'IDLE is IMAP; POP3 accounts are collected on schedule' });

  const multidrop = user.locals.length > 1 || user.locals.includes('*');
  const owners = ownerCandidates(user.locals, multidrop, ownerAddress);
  if (!user.remote) problem ??= 'no user name: fetchmail would use your login name; add "user NAME"';
  if (password === undefined) problem ??= 'no password in the file (fetchmail would read ~/.netrc or ask); add "password ..."';
  if (!host) problem ??= 'no server name';

  const account: ExternalAccountDraft = {
    name: `${user.remote}@${label}`.slice(0, 200),
    enabled: poll.kind === 'poll',
    protocol,
    host,
    ...(port !== undefined ? { port } : {}),
    tlsMode,
    // a pinned fingerprint is a check too: mailpull keeps checking the chain instead
    allowInvalidCertificates: !certCheck && !fingerprint,
    authMethod,
    username: user.remote,
    ...(password !== undefined ? { password } : {}),
    folders: folderChoice,
    push: idle && protocol === 'imap',
    ...(daemonSeconds !== null ? { intervalMinutes: Math.max(1, Math.round((daemonSeconds * intervalCycles) / 60)) } : {}),
    maxMessageBytes,
    deletePolicy: keep ? 'never' : 'immediately',
    ...(multidrop
      ? { mimeRecipients: { enabled: true, headers: envelope ? [envelope, ...DEFAULT_RECIPIENT_HEADERS] : [...DEFAULT_RECIPIENT_HEADERS] } }
      : {}),
  };
  if (envelope && !multidrop)
    unsupported.push({
      option: `envelope ${envelope}`,
      reason: 'only multidrop entries (is a b here, is * here) read recipients from headers',
    });
  const source = `${poll.kind} ${label}${user.remote ? `, user ${user.remote}` : ''} (line ${user.line})`;
  return { source, owners, account, tlsCaFile, unsupported, problem };
}

/** What a poll entry's TLS options ask of fetchmail. */
export interface FetchmailTls {
  ssl: boolean;
  /** null: not given */
  sslproto: string | null;
  /** sslcertck, fetchmail's default since 6.4.0; false for "no sslcertck" */
  certCheck: boolean;
  fingerprint: boolean;
}

/**
 * The TLS mode that keeps fetchmail's guarantee (6.4, starttls.c): "ssl" is implicit TLS (an
 * empty sslproto with it counts as "auto"); without it, sslproto "" turns STARTTLS off, and
 * sslcertck, an sslfingerprint or any other sslproto make STARTTLS required — fetchmail then
 * refuses a server, or a man in the middle, that does not offer it, and so does mailpull's
 * "starttls". Only "no sslcertck" with none of the others leaves the upgrade opportunistic.
 */
export function fetchmailTlsMode({ ssl, sslproto, certCheck, fingerprint }: FetchmailTls): ExternalAccountDraft['tlsMode'] {
  if (ssl) return 'direct';
  if (sslproto === '') return 'disabled';
  return certCheck || fingerprint || sslproto !== null ? 'starttls' : 'detect';
}

/**
 * "is jsmith here": jsmith at the owner's domain, else the owner; an address is taken as is.
 * Multidrop (several names, or *) belongs to the owner and delivers to the local recipients it names.
 */
function ownerCandidates(locals: string[], multidrop: boolean, ownerAddress: string): string[] {
  if (multidrop || locals.length === 0) return [ownerAddress];
  const local = locals[0];
  const address = local.includes('@') ? local : `${local}@${ownerAddress.slice(ownerAddress.lastIndexOf('@') + 1)}`;
  return address.toLowerCase() === ownerAddress.toLowerCase() ? [ownerAddress] : [address, ownerAddress];
}
