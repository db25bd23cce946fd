/** Which remote IMAP folders an account collects. */
export type FolderSelection =
  | { mode: 'inbox' }
  | { mode: 'list'; names: string[] }
  /** every selectable folder except those named (by path or special-use such as \Trash) and those holding copies */
  | { mode: 'all'; exclude: string[] };

export interface RemoteFolder {
  path: string;
  delimiter: string | null;
  /** LIST flags such as \Noselect */
  flags: readonly string[];
  /** RFC 6154 special-use such as \Trash, \Junk, \Sent */
  specialUse: string | null;
}

const isInbox = (path: string): boolean => path.toUpperCase() === 'INBOX';
const samePath = (a: string, b: string): boolean => a === b || (isInbox(a) && isInbox(b));
const selectable = (folder: RemoteFolder): boolean => !folder.flags.some((f) => /^\\(noselect|nonexistent)$/i.test(f));

/**
 * Virtual folders whose messages are copies of messages in other folders (RFC 6154 \All and
 * \Flagged, RFC 8457 \Important: Gmail's "All Mail", "Starred" and "Important"): collecting
 * every folder must not collect each message again from them. Named in a list, they are collected.
 */
const COPY_HOLDERS: ReadonlySet<string> = new Set(['\\all', '\\flagged', '\\important']);
const holdsCopies = (folder: RemoteFolder): boolean =>
  [folder.specialUse, ...folder.flags].some((use) => use !== null && COPY_HOLDERS.has(use.toLowerCase()));

/**
 * The folders to collect, in server order. Named folders that do not exist are returned in
 * `missing` so the caller can fail clearly instead of silently collecting less.
 */
export function selectFolders(
  folders: readonly RemoteFolder[],
  selection: FolderSelection,
): { collect: RemoteFolder[]; missing: string[] } {
  const usable = folders.filter(selectable);
  if (selection.mode === 'inbox') {
    const inbox = usable.find((f) => isInbox(f.path));
    return inbox ? { collect: [inbox], missing: [] } : { collect: [], missing: ['INBOX'] };
  }
  if (selection.mode === 'list') {
    const collect: RemoteFolder[] = [];
    const missing: string[] = [];
    for (const name of selection.names) {
      const found = usable.find((f) => samePath(f.path, name));
      if (found) {
        if (!collect.includes(found)) collect.push(found);
      } else missing.push(name);
    }
    return { collect, missing };
  }
  const excluded = (f: RemoteFolder): boolean =>
    holdsCopies(f) ||
    selection.exclude.some((x) =>
      x.startsWith('\\')
        ? f.specialUse?.toLowerCase() === x.toLowerCase()
        : samePath(f.path, x) || f.path.toLowerCase() === x.toLowerCase(),
    );
  return { collect: usable.filter((f) => !excluded(f)), missing: [] };
}

/**
 * The folders the selection wants that the server does not list: those it names, and `known`
 * ones (collected before, with messages still to collect) it would collect but which were
 * deleted or renamed on the server since.
 */
export function missingFolders(folders: readonly RemoteFolder[], selection: FolderSelection, known: readonly string[]): string[] {
  const ghosts: RemoteFolder[] = known
    .filter((path) => !folders.some((f) => samePath(f.path, path)))
    .map((path) => ({ path, delimiter: null, flags: [], specialUse: null }));
  const gone = selectFolders([...folders, ...ghosts], selection).collect.filter((f) => ghosts.includes(f));
  return [...new Set([...selectFolders(folders, selection).missing, ...gone.map((f) => f.path)])];
}

/** What the account's status says about missing folders, in words; null when none is missing. */
export function missingFoldersWarning(missing: readonly string[]): string | null {
  if (missing.length === 0) return null;
  const names = missing.map((m) => `"${m}"`).join(', ');
  return missing.length === 1
    ? `remote folder ${names} is not on the server (deleted or renamed?): it is not collected`
    : `remote folders ${names} are not on the server (deleted or renamed?): they are not collected`;
}

/** The server's personal namespace (RFC 2342): "INBOX." on Courier and Debian's Cyrus, "" on Dovecot. */
export interface PersonalNamespace {
  prefix: string;
  delimiter: string | null;
}

/**
 * The local folder a remote one mirrors to: its path with '/' between levels, INBOX as INBOX, and
 * without the personal namespace's prefix, so "INBOX.Work" on Courier is "Work" as "Work" is on
 * Dovecot. A folder outside the personal namespace (shared, other users') keeps its whole path, and
 * so does one whose name without the prefix would be INBOX ("INBOX.INBOX" is "INBOX/INBOX").
 */
export function localFolderFor(folder: Pick<RemoteFolder, 'path' | 'delimiter'>, personal: PersonalNamespace | null = null): string {
  if (isInbox(folder.path)) return 'INBOX';
  const prefix = personal?.prefix ?? '';
  const inside = prefix !== '' && folder.path.length > prefix.length && folder.path.startsWith(prefix);
  const rest = inside ? folder.path.slice(prefix.length) : folder.path;
  const path = isInbox(rest) ? folder.path : rest;
  return folder.delimiter && folder.delimiter !== '/' ? path.split(folder.delimiter).join('/') : path;
}
