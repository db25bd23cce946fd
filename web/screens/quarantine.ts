/** Quarantined messages (or those waiting for a retry), of one external account or all: retry or discard. */
import { api, download, listExternalAccounts } from '../api';
import { action, flash, h, main, size, table, time } from '../dom';
import { select } from '../forms';
import { every } from '../polling';
import { canReadMessages, canWrite } from '../session';
import type { HeldPage } from '../types';

export function quarantineScreen(externalId: string | undefined): void {
  let state = 'quarantined';
  let names = new Map<string, string>();
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const states = select(
    [
      ['quarantined', 'quarantined'],
      ['pending', 'waiting for a retry'],
    ],
    state,
  );
  const load = async (): Promise<void> => {
    const query = new URLSearchParams({ state, limit: '200' });
    if (externalId) query.set('externalAccountId', externalId);
    const [held, externals] = await Promise.all([
      api<HeldPage>('GET', `/api/quarantine?${query.toString()}`),
      names.size ? null : listExternalAccounts(),
    ]);
    if (externals) names = new Map(externals.map((e) => [e.id, e.name]));
    const write = canWrite();
    const rows = held.messages.map((m) =>
      h(
        'tr',
        { 'data-id': m.id },
        h('td', {}, time(m.quarantinedAt ?? m.createdAt)),
        h('td', {}, h('div', {}, m.subject ?? '(no subject)'), h('div', { class: 'muted' }, `${m.from ?? ''} ${size(m.size)}`)),
        h('td', {}, names.get(m.externalAccountId) ?? m.externalAccountId),
        h('td', { class: 'bad-text' }, m.reason),
        h('td', { class: 'num' }, m.attempts),
        h(
          'td',
          { class: 'row-actions' },
          canReadMessages() ? action('Raw', 'raw', () => download(`/api/quarantine/${m.id}/raw`, `quarantined-${m.id}.eml`)) : null,
          write && m.state === 'quarantined'
            ? action('Retry', 'retry', async () => {
                await api('POST', `/api/quarantine/${m.id}/retry`);
                flash(`${m.subject ?? 'The message'} goes out again in a cycle that starts now`);
                await load();
              })
            : null,
          write && m.state === 'quarantined'
            ? action(
                'Discard',
                'discard',
                async () => {
                  if (!confirm(`Discard "${m.subject ?? ''}" for good? It exists nowhere else.`)) return;
                  await api('DELETE', `/api/quarantine/${m.id}`);
                  await load();
                },
                'danger',
              )
            : null,
        ),
      ),
    );
    list.replaceChildren(
      h('p', { class: 'muted count' }, `${held.total} message(s)`),
      table(['Since', 'Message', 'External account', 'Reason', 'Attempts', ''], rows, 'Nothing here.'),
    );
  };
  states.addEventListener('change', () => {
    state = states.value;
    void load().catch(() => undefined);
  });
  main().replaceChildren(
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'title' },
        h('h1', {}, 'Quarantine'),
        h('label', {}, 'Show ', states),
        externalId ? h('a', { href: '#/quarantine' }, 'all accounts') : null,
      ),
      list,
    ),
  );
  every(3000, load);
}
