import type { AuditPage } from '../../api/response-types';
import type { Command } from '../command';
import { table } from '../output';

export const auditCommands: Command[] = [
  {
    words: ['audit'],
    summary:
      'The audit log, newest first: every change made through the API.\nEach entry names the token, the action, the object and the fields set (never their values).\nNeeds an admin token that is not limited to some domains.',
    options: {
      limit: { type: 'string', value: 'N', description: 'at most N entries (default 100)' },
      offset: { type: 'string', value: 'N', description: 'skip the newest N' },
    },
    needs: 'api',
    async run({ options, api }) {
      const params = new URLSearchParams();
      const limit = options.integer('limit', 1, 1000);
      const offset = options.integer('offset', 0, Number.MAX_SAFE_INTEGER);
      if (limit !== undefined) params.set('limit', String(limit));
      if (offset !== undefined) params.set('offset', String(offset));
      const query = params.toString();
      const page = await api().get<AuditPage>(`/api/audit${query ? `?${query}` : ''}`);
      const rows = table(page.entries, [
        ['AT', (e) => e.at],
        ['TOKEN', (e) => e.tokenId],
        ['ACTION', (e) => e.action],
        ['OBJECT', (e) => e.object],
        ['FIELDS', (e) => (e.fields.length ? e.fields.join(',') : '-')],
        ['STATUS', (e) => String(e.status)],
      ]);
      return { json: page, text: `${rows}\n${page.entries.length} of ${page.total} shown` };
    },
  },
];
