import type { AccountStatus } from '../../api/response-types';
import type { ApiClient } from '../api-client';
import { ApiRequestError } from '../api-client';
import type { Command } from '../command';
import { display, fields, table } from '../output';
import { findExternalAccount, listExternalAccounts, type ExternalAccountListItem } from '../resolve';

/** The workflow's status, or why there is none (no workflow, no worker). */
async function statusOf(api: ApiClient, id: string): Promise<AccountStatus | { unavailable: string }> {
  try {
    return await api.get<AccountStatus>(`/api/external-accounts/${id}/status`);
  } catch (err) {
    if (err instanceof ApiRequestError && err.status === 503) return { unavailable: err.body.message ?? 'unavailable' };
    throw err;
  }
}

const lastRunText = (s: AccountStatus): string =>
  s.lastRun ? `${s.lastRun.finishedAt} ${s.lastRun.outcome}, ${s.lastRun.delivered} delivered` : '-';

export const statusCommands: Command[] = [
  {
    words: ['status'],
    summary: 'The live status of every external account, or in full of one: phase, progress, last run, last error, next run.',
    args: [{ name: 'EXTERNAL_ACCOUNT', required: false }],
    needs: 'api',
    async run({ args, api }) {
      if (args[0]) {
        const account = await findExternalAccount(api(), args[0]);
        const status = await statusOf(api(), account.id);
        return { json: status, text: `${account.name} (${account.id})\n${fields({ ...status })}` };
      }
      const externalAccounts = await listExternalAccounts(api());
      const rows: { account: ExternalAccountListItem; status: AccountStatus | { unavailable: string } }[] = [];
      for (const account of externalAccounts) rows.push({ account, status: await statusOf(api(), account.id) });
      const text = table(rows, [
        ['ID', (r) => r.account.id],
        ['NAME', (r) => r.account.name],
        ['PHASE', (r) => ('unavailable' in r.status ? 'unavailable' : r.status.phase)],
        [
          'PROGRESS',
          (r) => ('unavailable' in r.status || !r.status.progress ? '-' : `${r.status.progress.done}/${r.status.progress.total}`),
        ],
        ['DELIVERED', (r) => ('unavailable' in r.status ? '-' : String(r.status.counts.delivered))],
        ['LAST RUN', (r) => ('unavailable' in r.status ? '-' : lastRunText(r.status))],
        ['NEXT RUN', (r) => ('unavailable' in r.status ? '-' : display(r.status.nextRunAt))],
        [
          'LAST ERROR',
          (r) =>
            'unavailable' in r.status
              ? r.status.unavailable
              : r.status.lastError
                ? `${r.status.lastError.kind}: ${r.status.lastError.message}`
                : '-',
        ],
      ]);
      return { json: rows.map((r) => ({ externalAccount: r.account, status: r.status })), text };
    },
  },
  {
    words: ['connect-now'],
    summary: 'Runs a collection cycle of an external account now (after the running one, if any).',
    args: [{ name: 'EXTERNAL_ACCOUNT', required: true }],
    needs: 'api',
    async run({ args, api }) {
      const account = await findExternalAccount(api(), args[0]);
      await api().post(`/api/external-accounts/${account.id}/connect-now`);
      return {
        json: { accepted: true, externalAccountId: account.id },
        text: `connect now: a cycle of "${account.name}" (${account.id}) starts`,
      };
    },
  },
];
