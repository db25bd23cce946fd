import type { ErrorAnswer } from '../api/response-types';
import { CommandError } from './errors';

/** The API's error answer (a code, a message naming the field, the field), as far as the answer has one. */
type ApiErrorBody = Partial<ErrorAnswer>;

/** An answer other than 2xx, with the API's own message. */
export class ApiRequestError extends CommandError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(`${body.message ?? `the API answered HTTP ${status}`} (HTTP ${status}${body.error ? ` ${body.error}` : ''})`);
  }
}

// An answer larger than this is not one the CLI asked for.
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** The mailpull HTTP API, with a bearer token. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CommandError(
        `cannot reach the mailpull API at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message} (set MAILPULL_API_URL or --api-url)`,
      );
    }
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES) throw new CommandError(`the API at ${this.baseUrl} answered more than ${MAX_ANSWER_BYTES} bytes`);
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new CommandError(`${method} ${path}: the answer (HTTP ${res.status}) is not JSON; is ${this.baseUrl} a mailpull API?`);
      }
    }
    if (res.status === 401) {
      const message = (parsed as ApiErrorBody | null)?.message ?? 'unauthorized';
      throw new CommandError(
        `the API refused the token: ${message}. Give a valid token with --token or MAILPULL_API_TOKEN (create one with "mailpull tokens create --name NAME", which needs DATABASE_URL)`,
      );
    }
    if (!res.ok) throw new ApiRequestError(res.status, parsed ?? {});
    return parsed as T;
  }
}
