/** A local account: its own mailbox at a provider, and its stored messages, newest first, a page at a time, with their raw downloads. */
import { api, download } from '../api';
import { action, flash, h, main, size, table, time } from '../dom';
import { mailboxLinkCard } from './mailbox-link';
import { every } from '../polling';
import { canReadMessages } from '../session';
import type { Account, MessagePage } from '../types';

export function messagesScreen(accountId: string): void {
  const PAGE = 50;
  let offset: number | null = null; // null: the newest page
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const title = h('h1', {}, 'Messages');
  const linkSlot = h('div');
  main().replaceChildren(linkSlot, h('section', { class: 'card' }, title, list));
  // once, not polled: the link form keeps what is typed into it
  void mailboxLinkCard(accountId).then(
    (card) => linkSlot.replaceChildren(card),
    (err: unknown) => flash(err instanceof Error ? err.message : String(err), 'error'),
  );
  const load = async (): Promise<void> => {
    const account = await api<Account>('GET', `/api/accounts/${accountId}`);
    title.textContent = `Messages of ${account.address}`;
    const page = (at: number) => api<MessagePage>('GET', `/api/accounts/${accountId}/messages?limit=${PAGE}&offset=${at}`);
    let at = offset ?? 0;
    let result = await page(at);
    if (offset === null && result.total > PAGE) result = await page((at = result.total - PAGE));
    const newestFirst = [...result.messages].sort((a, b) => Number(b.id) - Number(a.id));
    const rows = newestFirst.map((m) =>
      h(
        'tr',
        { 'data-id': m.id },
        h('td', {}, time(m.deliveredAt)),
        h('td', {}, m.from ?? ''),
        h('td', {}, m.subject ?? '(no subject)'),
        h('td', {}, m.folder),
        h('td', { class: 'num' }, size(m.size)),
        h(
          'td',
          {},
          canReadMessages()
            ? action('Raw', 'raw', () => download(`/api/accounts/${accountId}/messages/${m.id}/raw`, `message-${m.id}.eml`))
            : null,
        ),
      ),
    );
    const turn = (label: string, to: number | null) =>
      h('button', { type: 'button', onclick: () => ((offset = to), void load().catch(() => undefined)) }, label);
    list.replaceChildren(
      h(
        'p',
        { class: 'muted count' },
        `${result.total} message(s)`,
        result.total > 0 ? `, ${at + 1}–${at + result.messages.length} shown, newest first` : '',
      ),
      table(['Delivered', 'From', 'Subject', 'Folder', 'Size', ''], rows, 'No messages yet.'),
      h(
        'div',
        { class: 'actions' },
        at + PAGE < result.total ? turn('Newer', at + PAGE >= result.total - PAGE ? null : at + PAGE) : null,
        at > 0 ? turn('Older', Math.max(0, at - PAGE)) : null,
      ),
    );
  };
  every(3000, load);
}
