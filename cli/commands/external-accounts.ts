import { readFileSync } from 'node:fs';
import type { CreatedExternalAccount } from '../../api/response-types';
import { MAX_STORED_MESSAGE_BYTES } from '../../core/config';
import type { ApiClient } from '../api-client';
import type { Command, ParsedOptions } from '../command';
import { CommandError, UsageError } from '../errors';
import { table, yesNo } from '../output';
import { findAccount, findExternalAccount, listExternalAccounts, type ExternalAccount } from '../resolve';
import { deleteCommand, enableCommands, showCommand, type Resource } from './resource';

const EXTERNAL = { name: 'EXTERNAL_ACCOUNT', required: true };

export const describeExternal = (e: ExternalAccount): string =>
  `external account "${e.name}" (${e.id}): ${e.protocol} ${e.username}@${e.host}:${e.port}, tls ${e.tlsMode}, ${e.enabled ? 'enabled' : 'disabled'}`;

/** A file's text, "-" for standard input; the trailing newline is not part of a password. */
export function readSecretFile(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new CommandError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export function readTextFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CommandError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** "never", "immediately" or a number of days after download. */
function deletePolicy(options: ParsedOptions, usage: () => string): unknown {
  const v = options.string('delete');
  if (v === undefined || v === 'never' || v === 'immediately') return v;
  if (/^[0-9]{1,5}$/.test(v)) return { afterDays: Number(v) };
  throw new UsageError(`--delete must be never, immediately or a number of days, not "${v}"`, usage());
}

function folders(options: ParsedOptions): unknown {
  const v = options.string('folders');
  const exclude = options.string('exclude');
  const list = (s: string): string[] =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  if (v === undefined) return exclude === undefined ? undefined : { mode: 'all', exclude: list(exclude) };
  if (v === 'inbox') return { mode: 'inbox' };
  if (v === 'all') return { mode: 'all', exclude: exclude === undefined ? [] : list(exclude) };
  return { mode: 'list', names: list(v) };
}

const resource: Resource<ExternalAccount> = {
  group: 'external-accounts',
  arg: EXTERNAL,
  find: findExternalAccount,
  describe: describeExternal,
};

/** The options of a new account's settings, shared by add and sign-in. */
export const ACCOUNT_OPTIONS: Command['options'] = {
  owner: { type: 'string', value: 'ACCOUNT', description: 'the local account that receives the mail (address or id); required' },
  host: { type: 'string', value: 'HOST', description: 'the remote server; required' },
  username: { type: 'string', value: 'USER', description: 'the remote login; required' },
  name: { type: 'string', value: 'NAME', description: 'a label (default USER@HOST)' },
  protocol: { type: 'string', value: 'pop3|imap', description: 'default pop3' },
  port: { type: 'string', value: 'N', description: 'default from protocol and TLS mode (110, 995, 143, 993)' },
  tls: {
    type: 'string',
    value: 'starttls|detect|direct|disabled',
    description: 'starttls: STARTTLS/STLS required (recommended); detect: when offered (default); direct: implicit TLS',
  },
  'tls-ca-file': { type: 'string', value: 'FILE', description: 'a PEM certificate to trust for this server' },
  'allow-invalid-certificates': { type: 'boolean', description: "don't check the server's certificate (insecure)" },
  interval: { type: 'string', value: 'MINUTES', description: 'collect every MINUTES (default 30)' },
  delete: {
    type: 'string',
    value: 'never|immediately|DAYS',
    description: 'when collected messages are deleted on the server (default never)',
  },
  folders: { type: 'string', value: 'inbox|all|A,B', description: 'IMAP folders to collect (default inbox)' },
  exclude: {
    type: 'string',
    value: 'A,B',
    description: 'with --folders all: folders to leave out (names or \\Trash-style special uses)',
  },
  'mirror-folders': { type: 'boolean', description: 'IMAP: keep the folder structure in the local account' },
  push: { type: 'boolean', description: 'IMAP: collect at once when IDLE reports new mail' },
  'max-message-bytes': { type: 'string', value: 'N', description: 'leave larger messages on the server' },
  'mime-recipients': { type: 'boolean', description: 'also deliver to local accounts named in the headers (multidrop)' },
  disabled: { type: 'boolean', description: 'create it disabled' },
};

/**
 * A new account's fields from the options (every option checked before the API is asked
 * anything), with the owner resolved: the body of a create without its secret.
 */
export async function newAccountBody(options: ParsedOptions, api: () => ApiClient, usage: () => string): Promise<Record<string, unknown>> {
  for (const required of ['owner', 'host', 'username']) {
    if (!options.string(required)) throw new UsageError(`missing option --${required}`, usage());
  }
  const caFile = options.string('tls-ca-file');
  const maxBytes = options.integer('max-message-bytes', 0, MAX_STORED_MESSAGE_BYTES);
  const settings = {
    name: options.string('name') ?? `${options.string('username')}@${options.string('host')}`,
    host: options.string('host'),
    username: options.string('username'),
    enabled: !options.flag('disabled'),
    protocol: options.oneOf('protocol', ['pop3', 'imap']),
    port: options.integer('port', 1, 65535),
    tlsMode: options.oneOf('tls', ['detect', 'starttls', 'direct', 'disabled']),
    tlsCa: caFile === undefined ? undefined : readTextFile(caFile),
    allowInvalidCertificates: options.flag('allow-invalid-certificates') || undefined,
    intervalMinutes: options.integer('interval', 1, 7 * 24 * 60),
    deletePolicy: deletePolicy(options, usage),
    folders: folders(options),
    mirrorFolders: options.flag('mirror-folders') || undefined,
    push: options.flag('push') || undefined,
    maxMessageBytes: maxBytes === 0 ? null : maxBytes,
    mimeRecipients: options.flag('mime-recipients') ? { enabled: true } : undefined,
  };
  const owner = await findAccount(api(), options.string('owner') ?? '');
  return { ownerAccountId: owner.id, ...settings };
}

const addCommand: Command = {
  words: ['external-accounts', 'add'],
  summary: 'Creates an external account: a remote POP3 or IMAP mailbox collected into a local account.',
  options: {
    ...ACCOUNT_OPTIONS,
    password: {
      type: 'string',
      value: 'PASSWORD',
      description: 'the remote password (visible to other local users in ps; prefer --password-file)',
    },
    'password-file': { type: 'string', value: 'FILE', description: 'read the password from FILE ("-": standard input)' },
    apop: { type: 'boolean', description: 'log in with APOP (POP3)' },
  },
  needs: 'api',
  async run({ options, api }) {
    const usage = (): string => 'usage: mailpull external-accounts add --owner ACCOUNT --host HOST --username USER [options] (see --help)';
    // read before the API is asked anything, like every other option
    const passwordFile = options.string('password-file');
    const password = passwordFile !== undefined ? readSecretFile(passwordFile) : options.string('password');
    const body = {
      ...(await newAccountBody(options, api, usage)),
      password,
      authMethod: options.flag('apop') ? 'apop' : undefined,
    };
    const created = await api().post<CreatedExternalAccount>('/api/external-accounts', body);
    return { json: created, text: `created ${describeExternal(created)}` };
  },
};

export const externalAccountCommands: Command[] = [
  addCommand,
  {
    words: ['external-accounts', 'list'],
    summary: 'Lists the external accounts.',
    options: {
      owner: { type: 'string', value: 'ACCOUNT', description: 'only those of this local account (address or id)' },
      state: {
        type: 'string',
        value: 'STATE',
        description: 'only those in this state: ok, failing, disabled, reauthorization_needed, new',
      },
    },
    needs: 'api',
    async run({ options, api }) {
      const ownerKey = options.string('owner');
      const state = options.string('state');
      const externalAccounts = await listExternalAccounts(api(), {
        ...(ownerKey ? { ownerAccountId: (await findAccount(api(), ownerKey)).id } : {}),
        ...(state ? { state } : {}),
      });
      const text = table(externalAccounts, [
        ['ID', (e) => e.id],
        ['NAME', (e) => e.name],
        ['PROTOCOL', (e) => e.protocol],
        ['SERVER', (e) => `${e.host}:${e.port}`],
        ['USER', (e) => e.username],
        ['ENABLED', (e) => yesNo(e.enabled)],
        ['STATE', (e) => e.state],
      ]);
      return { json: externalAccounts, text };
    },
  },
  showCommand(resource, 'Shows one external account (by name or id); secrets show only whether they are set.'),
  ...enableCommands(resource, {
    enable: 'Enables an external account: it collects on its schedule again.',
    disable: 'Disables an external account: it downloads and deletes nothing.',
  }),
  deleteCommand({ ...resource, label: (e) => `external account "${e.name}"` }, 'Deletes an external account and ends its workflow.', {
    options: {
      'discard-quarantine': { type: 'boolean', description: 'also discard its quarantined messages (they exist nowhere else)' },
    },
    query: (options) => (options.flag('discard-quarantine') ? '?discardQuarantine=true' : ''),
  }),
];
