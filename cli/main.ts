import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../core/config';
import { insertApiToken, listApiTokens, revokeApiToken } from '../db/api-tokens';
import { migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { resealSecrets, secretsByKey } from '../db/secrets';
import { newApiToken } from '../secrets/api-token';
import { loadKeyring, parseKeys } from '../secrets/keyring';
import { generateKey } from '../secrets/secret-box';

const USAGE = `usage: mailpull <command>
  tokens create --name NAME [--read-only]   prints a new API token (shown only this once)
  tokens list                               lists tokens (never their secrets)
  tokens revoke ID                          the token stops working at once
  keys generate                             prints a new secret key (base64 of 32 random bytes)
  secrets rotate                            key file: adds a new key, re-seals every secret, drops unused keys;
                                            MAILPULL_SECRET_KEY: re-seals under its first key
  secrets status                            how many secrets each key seals`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

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

async function run(args: string[]): Promise<string> {
  const [group, command] = args;
  if (group === 'keys' && command === 'generate') return generateKey();
  if (group === 'secrets' && command === 'rotate') return rotate();
  if (group === 'secrets' && command === 'status') {
    return withDatabase(async (pool) => JSON.stringify(await secretsByKey(pool), null, 2));
  }
  if (group === 'tokens' && command === 'create') {
    const name = option(args, '--name');
    if (!name) throw new Error('tokens create needs --name NAME (who or what uses the token)');
    const token = newApiToken();
    const scope = args.includes('--read-only') ? 'read' : 'admin';
    await withDatabase((pool) => insertApiToken(pool, { id: token.id, name, scope, secretHash: token.secretHash }));
    return token.token;
  }
  if (group === 'tokens' && command === 'list') {
    return withDatabase(async (pool) => JSON.stringify(await listApiTokens(pool), null, 2));
  }
  if (group === 'tokens' && command === 'revoke' && args[2]) {
    const revoked = await withDatabase((pool) => revokeApiToken(pool, args[2]));
    if (!revoked) throw new Error(`no active token ${args[2]}`);
    return `revoked ${args[2]}`;
  }
  throw new Error(USAGE);
}

run(process.argv.slice(2)).then(
  (out) => console.log(out),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
