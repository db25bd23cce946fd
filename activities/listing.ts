import type { ListSummary } from '../core/account-status';
import { missingFoldersWarning } from '../core/folder-selection';
import { tlsWarning } from '../core/tls-decision';
import { loadCursors, markVanished, downloadCounts, recordListing, saveFolderListings } from '../db/uid-index';
import type { ActivityContext } from './context';
import { deleteDue } from './deletion';
import { typedFailures } from './failure';
import { heartbeating } from './heartbeat';

/**
 * Logs in, lists the server (IMAP: only what is new or pending) and records the listing in the
 * index, once per cycle: the downloads that follow work from the index. With `deleteIfQuiet` and
 * nothing to download, also removes on the same session what the delete policy allows.
 */
export const listAndRecord = (
  { pool, session, sizeLimit }: ActivityContext,
  accountId: string,
  deleteIfQuiet: boolean,
): Promise<{ listed: ListSummary; removed: number }> =>
  typedFailures(() =>
    session(accountId, async (mail, account) => {
      const stage = { stage: 'listing' };
      const listed: ListSummary = await heartbeating(
        () => stage,
        async () => {
          const listing = await mail.list(await loadCursors(pool, accountId));
          stage.stage = 'recording';
          const recorded = await recordListing(pool, accountId, listing.messages);
          const resynced = await saveFolderListings(pool, accountId, listing.folders);
          const pop3 = account.protocol === 'pop3';
          const folders = pop3 ? [''] : listing.folders.map((f) => f.folder);
          await markVanished(pool, accountId, folders, recorded.messages, pop3);
          const counts = await downloadCounts(pool, accountId, sizeLimit(account));
          return {
            tls: mail.tls,
            tlsWarning: tlsWarning(mail.tls, account.allowInvalidCertificates),
            onServer: listing.messages.length,
            newOnServer: recorded.inserted,
            ...counts,
            resyncedFolders: resynced,
            folderWarning: missingFoldersWarning(listing.missingFolders),
          };
        },
      );
      return { listed, removed: deleteIfQuiet && listed.toDownload === 0 ? await deleteDue(pool, mail, account) : 0 };
    }),
  );
