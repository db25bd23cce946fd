/** What an rc file import creates: external accounts through the API, and what it cannot carry over. */

export type FolderChoice = { mode: 'inbox' } | { mode: 'list'; names: string[] } | { mode: 'all'; exclude: string[] };

/** The body of POST /api/external-accounts, less the owner: the import resolves it from an address. */
export interface ExternalAccountDraft {
  name: string;
  enabled: boolean;
  protocol: 'pop3' | 'imap';
  host: string;
  port?: number;
  tlsMode: 'detect' | 'starttls' | 'direct' | 'disabled';
  allowInvalidCertificates: boolean;
  authMethod: 'password' | 'apop';
  username: string;
  password?: string;
  folders: FolderChoice;
  push: boolean;
  intervalMinutes?: number;
  maxMessageBytes: number | null;
  deletePolicy: 'never' | 'immediately' | { afterDays: number };
  mimeRecipients?: { enabled: boolean; headers?: string[] };
}

/** An option of the rc file that mailpull has no equivalent for, and what to know about it. */
export interface Unsupported {
  option: string;
  reason: string;
}

export interface ImportEntry {
  /** where it comes from in the file, e.g. "poll pop.example.com, user joe (line 12)" */
  source: string;
  /** local addresses that may own it, best first: the import takes the first that exists */
  owners: string[];
  account: ExternalAccountDraft;
  /** a PEM file whose certificate the account trusts (read when the account is created) */
  tlsCaFile: string | null;
  unsupported: Unsupported[];
  /** why the entry cannot become an external account, or null */
  problem: string | null;
}

export interface ImportPlan {
  entries: ImportEntry[];
  /** options of the whole file (fetchmail's "set" lines, getmail's destination) without an equivalent */
  global: Unsupported[];
}

/** Thrown for a file that cannot be read as what it claims to be; names the line. */
export class RcSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** An rc file is a local text file; anything larger than this is not one. */
export const MAX_RC_BYTES = 1024 * 1024;

export function checkSize(text: string): void {
  if (text.length > MAX_RC_BYTES) throw new RcSyntaxError(1, `the file is larger than ${MAX_RC_BYTES} bytes; not an rc file`);
}

/** A size limit in bytes for maxMessageBytes: 0 means none; the API's smallest limit is 1 KiB. */
export function sizeLimit(bytes: number, option: string, unsupported: Unsupported[]): number | null {
  if (bytes === 0) return null;
  if (bytes < 1024) {
    unsupported.push({ option, reason: `mailpull's smallest size limit is 1024 bytes; ${bytes} was raised to 1024` });
    return 1024;
  }
  return bytes;
}

/** A non-negative integer written in decimal, or null. */
export function decimal(text: string | undefined): number | null {
  if (text === undefined || text.length === 0 || text.length > 15) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return Number(text);
}
