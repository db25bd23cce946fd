import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../../core/config';
import { insertApiToken, listApiTokens, revokeApiToken, type ApiTokenInfo } from '../../db/api-tokens';
import { findDomainByName, getDomain } from '../../db/domains';
import { migrate } from '../../db/migrate';
import { createPool, type Pool } from '../../db/pool';
import { resealSecrets, secretsByKey } from '../../db/secrets';
import { newApiToken } from '../../secrets/api-token';
import { loadKeyring, parseKeys } from '../../secrets/keyring';
import { generateKey } from '../../secrets/secret-box';
import type { Command } from '../command';
import { CommandError } from '../errors';
import { table } from '../output';

/*
 * The commands that work on the database itself, not through the API: the first API token cannot
 * come from the API, and the secret keys never leave the machines that hold them.
 */

async function withDatabase<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(loadConfig().databaseUrl, { max: 2 });
  try {
    await migrate(pool);
    return await work(pool);
  } finally {
    await pool.end();
  }
}

/** Writes the key file whole, then renames it over the old one, so a reader never sees half a file. */
function writeKeyFile(path: string, keys: string[]): void {
  writeFileSync(`${path}.new`, `${keys.join('\n')}\n`, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

async function rotate(): Promise<string> {
  const config = loadConfig();
  const source = config.secretKeys;
  if (source.kind === 'file') {
    const old = readFileSync(source.path, 'utf8');
    const oldKeys = parseKeys(old, source.path).map((k) => k.key.toString('base64'));
    writeKeyFile(source.path, [generateKey(), ...oldKeys]);
  }
  const keyring = loadKeyring(source);
  return withDatabase(async (pool) => {
    const resealed = await resealSecrets(pool, keyring);
    const byKey = await secretsByKey(pool);
    const active = keyring.active();
    const lines = [`re-sealed ${resealed} secret(s) under key ${active.id}`];
    if (source.kind === 'file') {
      const kept = parseKeys(readFileSync(source.path, 'utf8'), source.path).filter((k) => k.id === active.id || byKey[k.id]);
      writeKeyFile(
        source.path,
        kept.map((k) => k.key.toString('base64')),
      );
      lines.push(`${source.path} now holds ${kept.length} key(s)`);
    }
    const stale = Object.keys(byKey).filter((id) => id !== active.id);
    lines.push(
      stale.length ? `still sealed with other keys: ${stale.join(', ')} (keep those keys)` : 'no secret is sealed with an older key',
    );
    return lines.join('\n');
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ids of the local domains named (by name or id); none named: null, every domain. */
async function domainIdsOf(pool: Pool, keys: string[]): Promise<string[] | null> {
  if (keys.length === 0) return null;
  const ids = new Set<string>();
  for (const key of keys) {
    const domain = UUID.test(key) ? await getDomain(pool, key) : await findDomainByName(pool, key);
    if (!domain) throw new CommandError(`no local domain ${key} (see mailpull domains list)`);
    ids.add(domain.id);
  }
  return [...ids];
}

/** What a token may do, in one word: admin or read, and messages:read when it may read message bodies. */
const rightsText = (t: ApiTokenInfo): string => `${t.scope}${t.messagesRead ? '+messages:read' : ''}`;

const domainsText = (t: ApiTokenInfo): string =>
  t.domains === null ? 'all' : t.domains.length === 0 ? '(none)' : t.domains.map((d) => d.name ?? `${d.id} (deleted)`).join(',');

export const databaseCommands: Command[] = [
  {
    words: ['tokens', 'create'],
    summary: 'Prints a new API token (shown only this once).',
    options: {
      name: { type: 'string', value: 'NAME', description: 'who or what uses the token; required' },
      'read-only': { type: 'boolean', description: 'the token may only read (GET)' },
      domain: {
        type: 'string',
        value: 'DOMAIN',
        multiple: true,
        description:
          'the token sees and manages only this local domain (name or id): its accounts, external accounts, quarantine and messages',
      },
      'messages-read': {
        type: 'boolean',
        description: 'a read-only token may also read message bodies (admin tokens always may)',
      },
    },
    needs: 'database',
    async run({ options }) {
      const name = options.string('name');
      if (!name) throw new CommandError('tokens create needs --name NAME (who or what uses the token)');
      const token = newApiToken();
      const scope = options.flag('read-only') ? 'read' : 'admin';
      const messagesRead = scope === 'admin' || options.flag('messages-read');
      const domainIds = await withDatabase(async (pool) => {
        const ids = await domainIdsOf(pool, options.strings('domain'));
        await insertApiToken(pool, { id: token.id, name, scope, secretHash: token.secretHash, domainIds: ids, messagesRead });
        return ids;
      });
      return { json: { id: token.id, name, scope, messagesRead, domainIds, token: token.token }, text: token.token };
    },
  },
  {
    words: ['tokens', 'list'],
    summary: 'Lists API tokens (never their secrets).',
    needs: 'database',
    async run() {
      const tokens = await withDatabase((pool) => listApiTokens(pool));
      const when = (d: Date | null): string => (d ? d.toISOString() : '-');
      const text = table(tokens, [
        ['ID', (t) => t.id],
        ['NAME', (t) => t.name],
        ['SCOPE', rightsText],
        ['DOMAINS', domainsText],
        ['CREATED', (t) => when(t.createdAt)],
        ['LAST USED', (t) => when(t.lastUsedAt)],
        ['REVOKED', (t) => when(t.revokedAt)],
      ]);
      return { json: tokens, text };
    },
  },
  {
    words: ['tokens', 'revoke'],
    summary: 'Revokes an API token: it stops working at once.',
    args: [{ name: 'ID', required: true }],
    needs: 'database',
    async run({ args }) {
      const revoked = await withDatabase((pool) => revokeApiToken(pool, args[0]));
      if (!revoked) throw new CommandError(`no active token ${args[0]}`);
      return { json: { revoked: args[0] }, text: `revoked ${args[0]}` };
    },
  },
  {
    words: ['keys', 'generate'],
    summary: 'Prints a new secret key (base64 of 32 random bytes).',
    needs: 'none',
    run() {
      const key = generateKey();
      return Promise.resolve({ json: { key }, text: key });
    },
  },
  {
    words: ['secrets', 'rotate'],
    summary:
      'Key file: adds a new key, re-seals every secret under it, drops keys nothing uses.\nMAILPULL_SECRET_KEY: re-seals under its first key.',
    needs: 'database',
    async run() {
      const text = await rotate();
      return { json: { report: text.split('\n') }, text };
    },
  },
  {
    words: ['secrets', 'status'],
    summary: 'How many secrets each key seals.',
    needs: 'database',
    async run() {
      const byKey = await withDatabase((pool) => secretsByKey(pool));
      return {
        json: byKey,
        text: table(Object.entries(byKey), [
          ['KEY ID', ([id]) => id],
          ['SECRETS', ([, n]) => String(n)],
        ]),
      };
    },
  },
];
