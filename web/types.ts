/** The API's answers as the page reads them. */

export interface Me {
  id: string;
  scope: string;
  /** may read message bodies (the Raw downloads) */
  messagesRead: boolean;
}
export interface UiConfig {
  temporalUiUrl: string | null;
  temporalNamespace: string;
}
export interface Domain {
  id: string;
  name: string;
  enabled: boolean;
}
export interface Account {
  id: string;
  domainId: string;
  address: string;
  enabled: boolean;
}
export type DeletePolicy = 'never' | 'immediately' | { afterDays: number };
export interface ExternalAccount {
  id: string;
  name: string;
  ownerAccountId: string;
  enabled: boolean;
  protocol: 'pop3' | 'imap';
  host: string;
  port: number;
  tlsMode: string;
  tlsCa: string | null;
  username: string;
  intervalMinutes: number;
  deletePolicy: DeletePolicy;
}
/** A list item: the account and what its workflow reported last (null before its first report). */
export interface ListedExternalAccount extends ExternalAccount {
  recordedStatus: {
    phase: string;
    lastRun: Status['lastRun'];
    lastError: Failure | null;
    nextRunAt: string | null;
    backlog: number;
    quarantined: number;
    recordedAt: string;
  } | null;
}
export interface Failure {
  kind: string;
  message: string;
  at?: string;
}
export interface Status {
  phase: string;
  disabledReason: string | null;
  progress: { done: number; total: number } | null;
  tlsWarning: string | null;
  folderWarning?: string | null;
  lastRun: { finishedAt: string; outcome: string; delivered: number; quarantined: number; held: number; tooLarge: number } | null;
  lastError: Failure | null;
  nextRunAt: string | null;
  rerunQueued: boolean;
  delivery: { backlog: number; quarantined: number; lastError: Failure | null };
  retrying: { activity: string; attempt: number; lastError: Failure } | null;
}
export interface StoredMessage {
  id: string;
  folder: string;
  size: number;
  subject: string | null;
  from: string | null;
  deliveredAt: string;
}
export interface HeldMessage {
  id: string;
  externalAccountId: string;
  size: number;
  subject: string | null;
  from: string | null;
  state: string;
  reason: string;
  attempts: number;
  createdAt: string;
  quarantinedAt: string | null;
  nextAttemptAt: string;
}
export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  issues?: { field: string; message: string }[];
}
