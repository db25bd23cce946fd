import type { OAuthProvider } from './oauth';
import type { TlsMode } from './tls-decision';

/** The mail providers mailpull knows by name: `POST /api/external-accounts` takes `"provider"`. */
export const PROVIDER_NAMES = ['gmail', 'microsoft', 'yahoo', 'aol', 'icloud', 'gmx'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ServerPreset {
  host: string;
  port: number;
  tlsMode: TlsMode;
}

/** What a provider's servers expect, and what a fetcher must know about them. */
export interface ProviderPreset {
  name: ProviderName;
  /** as an admin reads it */
  label: string;
  imap: ServerPreset;
  /** null: the provider offers no POP3 */
  pop3: ServerPreset | null;
  /** xoauth2: the provider's OAuth2 sign-in (Microsoft accepts nothing else); password: an app password */
  authMethod: 'xoauth2' | 'password';
  /** the OAuth2 preset (token endpoint, scope) when the provider signs in with OAuth2 */
  oauthProvider: Exclude<OAuthProvider, 'custom'> | null;
  /** the scopes a sign-in asks for */
  scopes: readonly string[];
  /** folder mode "all" leaves these out unless the account says otherwise (special-use or path) */
  excludeFolders: readonly string[];
  /** simultaneous IMAP connections the provider allows one user; null: no published limit */
  maxImapConnections: number | null;
  /** what the admin must do at the provider before mailpull can log in */
  note: string;
}

const direct = (host: string, port: number): ServerPreset => ({ host, port, tlsMode: 'direct' });

/** Spam and trash are not mail a user wants collected; other folders are (RFC 6154 special-use names). */
const SKIP_JUNK_AND_TRASH = ['\\Junk', '\\Trash'] as const;

/*
 * Hosts and ports as the providers publish them (IMAP 993 and POP3 995, TLS from the first byte).
 * Gmail allows 15 simultaneous IMAP connections per user and about 2,500 MB of IMAP downloads a
 * day; Yahoo, AOL, iCloud and GMX take an app password generated in the account's security
 * settings (iCloud has no POP3).
 */
export const PROVIDERS: Record<ProviderName, ProviderPreset> = {
  gmail: {
    name: 'gmail',
    label: 'Gmail',
    imap: direct('imap.gmail.com', 993),
    pop3: direct('pop.gmail.com', 995),
    authMethod: 'xoauth2',
    oauthProvider: 'google',
    scopes: ['https://mail.google.com/'],
    excludeFolders: SKIP_JUNK_AND_TRASH,
    maxImapConnections: 15,
    note: 'sign in with Google (OAuth2), or use an app password with authMethod "password"',
  },
  microsoft: {
    name: 'microsoft',
    label: 'Microsoft 365 / Outlook.com',
    imap: direct('outlook.office365.com', 993),
    pop3: direct('outlook.office365.com', 995),
    authMethod: 'xoauth2',
    oauthProvider: 'microsoft',
    scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/POP.AccessAsUser.All', 'offline_access'],
    excludeFolders: SKIP_JUNK_AND_TRASH,
    maxImapConnections: null,
    note: 'Microsoft accepts only OAuth2 (sign in with Microsoft)',
  },
  yahoo: {
    name: 'yahoo',
    label: 'Yahoo Mail',
    imap: direct('imap.mail.yahoo.com', 993),
    pop3: direct('pop.mail.yahoo.com', 995),
    authMethod: 'password',
    oauthProvider: null,
    scopes: [],
    excludeFolders: SKIP_JUNK_AND_TRASH,
    maxImapConnections: null,
    note: 'generate an app password in the Yahoo account security settings',
  },
  aol: {
    name: 'aol',
    label: 'AOL Mail',
    imap: direct('imap.aol.com', 993),
    pop3: direct('pop.aol.com', 995),
    authMethod: 'password',
    oauthProvider: null,
    scopes: [],
    excludeFolders: SKIP_JUNK_AND_TRASH,
    maxImapConnections: null,
    note: 'generate an app password in the AOL account security settings',
  },
  icloud: {
    name: 'icloud',
    label: 'iCloud Mail',
    imap: direct('imap.mail.me.com', 993),
    pop3: null,
    authMethod: 'password',
    oauthProvider: null,
    scopes: [],
    excludeFolders: SKIP_JUNK_AND_TRASH,
    maxImapConnections: null,
    note: 'generate an app-specific password at appleid.apple.com; iCloud has no POP3',
  },
  gmx: {
    name: 'gmx',
    label: 'GMX',
    imap: direct('imap.gmx.net', 993),
    pop3: direct('pop.gmx.net', 995),
    authMethod: 'password',
    oauthProvider: null,
    scopes: [],
    excludeFolders: SKIP_JUNK_AND_TRASH,
    maxImapConnections: null,
    note: 'enable POP3/IMAP access in the GMX settings; with two-factor authentication use an app password',
  },
};

export const isProviderName = (name: string): name is ProviderName => (PROVIDER_NAMES as readonly string[]).includes(name);

/** The settings a preset fills for an account of `protocol`; null when the provider does not offer it. */
export function presetServer(preset: ProviderPreset, protocol: 'pop3' | 'imap'): ServerPreset | null {
  return protocol === 'imap' ? preset.imap : preset.pop3;
}

/**
 * The provider whose servers these are, by host (case-insensitive), so an account typed by hand
 * gets the provider's quirks too.
 */
export function providerForHost(host: string): ProviderPreset | null {
  const h = host.toLowerCase().replace(/\.$/, '');
  for (const preset of Object.values(PROVIDERS)) {
    if (preset.imap.host === h || preset.pop3?.host === h) return preset;
  }
  return null;
}

/** IMAP connections one collection cycle holds: its single session (listing, batches, deletion run one after the other). */
export const CYCLE_IMAP_CONNECTIONS = 1;

/** IDLE watches per account when the provider publishes no limit: one connection per folder. */
export const DEFAULT_WATCHED_FOLDERS = 10;

/**
 * How many folders one account watches with IDLE. A watch may still be closing when the next
 * cycle logs in (its cancellation reaches it with the next heartbeat), so watches and a cycle
 * must fit in the provider's connection limit together.
 */
export function watchedFolderLimit(preset: ProviderPreset | null): number {
  if (!preset?.maxImapConnections) return DEFAULT_WATCHED_FOLDERS;
  return Math.max(1, Math.min(DEFAULT_WATCHED_FOLDERS, preset.maxImapConnections - CYCLE_IMAP_CONNECTIONS));
}
