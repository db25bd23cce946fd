import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiClient } from './api-client';
import type { ParsedOptions } from './command';
import { CommandError } from './errors';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** The data directory of the embedded default (npm start), where it writes the first admin token. */
const dataDir = (env: NodeJS.ProcessEnv): string => env.MAILPULL_DATA_DIR ?? path.resolve(__dirname, '../../.data');

/**
 * The API client the options and the environment describe: --api-url, else MAILPULL_API_URL, else
 * the embedded default; --token, else MAILPULL_API_TOKEN, else (on the embedded default only) the
 * token `npm start` wrote.
 */
export function connect(options: ParsedOptions, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const url = options.string('api-url') ?? env.MAILPULL_API_URL ?? DEFAULT_API_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new CommandError(`the API URL "${url}" is not an http(s) URL`);
  }
  let token = options.string('token') ?? env.MAILPULL_API_TOKEN;
  const tokenFile = path.join(dataDir(env), 'api-token');
  if (!token && url.replace(/\/+$/, '') === DEFAULT_API_URL && existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim();
  if (!token) {
    throw new CommandError(
      'no API token: pass --token TOKEN or set MAILPULL_API_TOKEN (create one with "mailpull tokens create --name NAME", which needs DATABASE_URL)',
    );
  }
  return new ApiClient(url, token);
}
