import { h } from './dom';
import { session } from './session';
import type { ErrorBody, ExternalAccountList, ExternalAccountListItem } from './types';

/** A refusal by the API, with its answer: the status and the field at fault. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

let unauthorized: (message: string) => void = () => undefined;

/** What to do when the API no longer accepts the signed-in token. */
export function onUnauthorized(handler: (message: string) => void): void {
  unauthorized = handler;
}

export async function request(method: string, path: string, body?: unknown, withToken = session.token): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${withToken ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.ok) return res;
  const text = await res.text();
  let parsed: ErrorBody;
  try {
    parsed = JSON.parse(text) as ErrorBody;
  } catch {
    parsed = { error: 'http_error', message: `${res.status} ${res.statusText}` };
  }
  if (res.status === 401 && withToken === session.token && session.me) unauthorized(parsed.message);
  throw new ApiFailure(res.status, parsed);
}

export const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await request(method, path, body);
  return (res.status === 204 ? null : await res.json()) as T;
};

/** A raw message needs the token, so it is fetched here and handed to the browser as a file. */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await (await request('GET', path)).blob();
  const url = URL.createObjectURL(blob);
  h('a', { href: url, download: filename }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Every external account, page after page: the API answers at most 1,000 per request. */
export async function listExternalAccounts(): Promise<ExternalAccountListItem[]> {
  const all: ExternalAccountListItem[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000' });
    if (cursor) query.set('cursor', cursor);
    const page = await api<ExternalAccountList>('GET', `/api/external-accounts?${query.toString()}`);
    all.push(...page.externalAccounts);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}
