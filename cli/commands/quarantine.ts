import type { HeldMessage, HeldPage } from '../../api/response-types';
import type { Command } from '../command';
import { CommandError } from '../errors';
import { fields, table } from '../output';
import { findExternalAccount } from '../resolve';

const HELD = { name: 'ID', required: true };

const heldId = (id: string): string => {
  if (!/^[1-9][0-9]{0,17}$/.test(id))
    throw new CommandError(`"${id}" is not a quarantine id (a positive number; see mailpull quarantine list)`);
  return id;
};

export const quarantineCommands: Command[] = [
  {
    words: ['quarantine', 'list'],
    summary: 'Lists messages a delivery target refused for good (with --pending: those waiting for a retry).',
    options: {
      'external-account': { type: 'string', value: 'EXTERNAL_ACCOUNT', description: 'only those of this external account (name or id)' },
      pending: { type: 'boolean', description: 'messages waiting for a retry instead' },
      limit: { type: 'string', value: 'N', description: 'at most N (default 100)' },
      offset: { type: 'string', value: 'N', description: 'skip the first N' },
    },
    needs: 'api',
    async run({ options, api }) {
      const params = new URLSearchParams({ state: options.flag('pending') ? 'pending' : 'quarantined' });
      const key = options.string('external-account');
      if (key) params.set('externalAccountId', (await findExternalAccount(api(), key)).id);
      const limit = options.integer('limit', 1, 1000);
      const offset = options.integer('offset', 0, Number.MAX_SAFE_INTEGER);
      if (limit !== undefined) params.set('limit', String(limit));
      if (offset !== undefined) params.set('offset', String(offset));
      const page = await api().get<HeldPage>(`/api/quarantine?${params.toString()}`);
      const rows = table(page.messages, [
        ['ID', (m) => m.id],
        ['EXTERNAL ACCOUNT', (m) => m.externalAccountId],
        ['FROM', (m) => m.from ?? '-'],
        ['SUBJECT', (m) => m.subject ?? '-'],
        ['SIZE', (m) => String(m.size)],
        ['ATTEMPTS', (m) => String(m.attempts)],
        ['REASON', (m) => m.reason],
      ]);
      return { json: page, text: `${rows}\n${page.total} in total` };
    },
  },
  {
    words: ['quarantine', 'show'],
    summary: 'Shows one quarantined message: why, its recipients and their answers.',
    args: [HELD],
    needs: 'api',
    async run({ args, api }) {
      const message = await api().get<HeldMessage>(`/api/quarantine/${heldId(args[0])}`);
      return { json: message, text: fields(message) };
    },
  },
  {
    words: ['quarantine', 'retry'],
    summary: 'Delivers a quarantined message again (after fixing the cause), at once.',
    args: [HELD],
    needs: 'api',
    async run({ args, api }) {
      const message = await api().post<HeldMessage>(`/api/quarantine/${heldId(args[0])}/retry`);
      return { json: message, text: `message ${message.id} is waiting for delivery again` };
    },
  },
  {
    words: ['quarantine', 'discard'],
    summary: 'Deletes a quarantined message for good (it exists nowhere else).',
    args: [HELD],
    needs: 'api',
    async run({ args, api }) {
      const id = heldId(args[0]);
      await api().delete(`/api/quarantine/${id}`);
      return { json: { discarded: id }, text: `discarded message ${id}` };
    },
  },
];
