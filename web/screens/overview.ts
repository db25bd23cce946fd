/** The external accounts with their live status, polled a few at a time, and what can be done to each. */
import { ApiFailure, api, listExternalAccounts } from '../api';
import { action, badge, flash, h, main } from '../dom';
import { oauthApps, signInAt } from '../oauth';
import { every } from '../polling';
import { canWrite } from '../session';
import { ACTIVE, recordedAsStatus, statusCells, temporalLink } from '../status-cells';
import type { AccountList, ExternalAccount, OAuthApp, ResetIndexResult, Status } from '../types';

export function overviewScreen(): void {
  let accounts: ExternalAccount[] = [];
  let owners = new Map<string, string>();
  /** the providers with an OAuth app: their accounts can be signed in again */
  let signInProviders = new Set<OAuthApp['provider']>();
  let listedAt = 0;
  const statuses = new Map<string, { status?: Status; unavailable?: string; at: number }>();
  /** accounts just told to run: polled every second for a while */
  const watched = new Map<string, number>();
  const rows = new Map<string, { key: string; tr: HTMLTableRowElement }>();
  const tbody = h('tbody');
  const container = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  main().replaceChildren(
    h(
      'section',
      {},
      h(
        'div',
        { class: 'title' },
        h('h1', {}, 'External accounts'),
        canWrite() ? h('a', { class: 'button primary', href: '#/external/new' }, 'New external account') : null,
      ),
      container,
    ),
  );

  const watch = (id: string): void => {
    watched.set(id, Date.now() + 60_000);
  };

  const row = (account: ExternalAccount): HTMLTableRowElement => {
    const entry = statuses.get(account.id);
    const status = entry?.status;
    const write = canWrite();
    const quarantined = status?.delivery.quarantined ?? 0;
    const grantProvider = account.authMethod === 'xoauth2' ? account.oauth?.provider : undefined;
    const reconnect =
      write &&
      grantProvider !== undefined &&
      signInProviders.has(grantProvider) &&
      (status?.phase === 'reauthorization_needed' || (!status && account.reauthorizationReason !== null));
    return h(
      'tr',
      { 'data-id': account.id },
      h(
        'td',
        {},
        h('strong', {}, account.name),
        account.enabled ? null : h('span', {}, ' ', badge('disabled', 'off')),
        h('div', { class: 'muted' }, `${account.protocol.toUpperCase()} ${account.username}@${account.host}:${account.port}`),
        h(
          'div',
          { class: 'muted' },
          '→ ',
          h('a', { href: `#/accounts/${account.ownerAccountId}` }, owners.get(account.ownerAccountId) ?? 'owner'),
        ),
      ),
      ...statusCells(status, entry?.unavailable),
      h(
        'td',
        { class: 'row-actions' },
        reconnect ? action('Reconnect', 'reconnect', () => signInAt(grantProvider, { externalAccountId: account.id }), 'primary') : null,
        write && account.enabled
          ? action('Connect now', 'connect-now', async () => {
              await api('POST', `/api/external-accounts/${account.id}/connect-now`);
              watch(account.id);
              flash(`${account.name}: a cycle starts now`);
            })
          : null,
        write
          ? action(account.enabled ? 'Disable' : 'Enable', account.enabled ? 'disable' : 'enable', async () => {
              await api('PATCH', `/api/external-accounts/${account.id}`, { enabled: !account.enabled });
              watch(account.id);
              listedAt = 0;
              await refresh();
            })
          : null,
        write ? h('a', { class: 'button', href: `#/external/${account.id}`, 'data-action': 'edit' }, 'Edit') : null,
        write
          ? action('Reset index', 'reset-index', async () => {
              if (
                !confirm(
                  `Forget which messages of ${account.name} were downloaded? The next cycle looks at every message again; those already stored are recognized, not stored twice.`,
                )
              )
                return;
              const { forgotten } = await api<ResetIndexResult>('POST', `/api/external-accounts/${account.id}/reset-index`, {
                force: false,
              });
              flash(`${account.name}: index reset, ${forgotten} message(s) forgotten`);
            })
          : null,
        quarantined > 0 ? h('a', { class: 'button', href: `#/quarantine/${account.id}` }, `${quarantined} quarantined`) : null,
        temporalLink(account.id),
      ),
    );
  };

  const render = (): void => {
    if (accounts.length === 0) {
      container.replaceChildren(h('p', { class: 'muted' }, canWrite() ? 'No external accounts yet.' : 'No external accounts.'));
      rows.clear();
      return;
    }
    if (!container.contains(tbody)) {
      container.replaceChildren(
        h(
          'table',
          { class: 'accounts' },
          h('thead', {}, h('tr', {}, ...['Account', 'Phase', 'Last run', 'Last error', 'Next run', ''].map((t) => h('th', {}, t)))),
          tbody,
        ),
      );
    }
    const bucket = Math.floor(Date.now() / 5000); // relative times move on
    const next = accounts.map((account) => {
      const key = JSON.stringify([account, owners.get(account.ownerAccountId), statuses.get(account.id), bucket]);
      const existing = rows.get(account.id);
      const tr = existing?.key === key ? existing.tr : row(account);
      rows.set(account.id, { key, tr });
      return tr;
    });
    for (const id of rows.keys()) if (!accounts.some((a) => a.id === id)) rows.delete(id);
    if (next.some((tr, i) => tbody.children[i] !== tr) || tbody.children.length !== next.length) tbody.replaceChildren(...next);
  };

  const refresh = async (): Promise<void> => {
    const now = Date.now();
    if (now - listedAt > 10_000) {
      const [list, local, apps] = await Promise.all([
        listExternalAccounts(),
        api<AccountList>('GET', '/api/accounts'),
        canWrite() ? oauthApps() : Promise.resolve(null),
      ]);
      signInProviders = new Set(apps?.apps.map((a) => a.provider));
      accounts = list.sort((a, b) => a.name.localeCompare(b.name));
      // Rows not yet asked live show the recorded status, so a long list is filled at once.
      for (const a of list) {
        if (a.recordedStatus && !statuses.has(a.id)) statuses.set(a.id, { status: recordedAsStatus(a.recordedStatus), at: 0 });
      }
      owners = new Map(local.accounts.map((a) => [a.id, a.address]));
      listedAt = now;
    }
    // A few status queries a second at most, busy and watched accounts first, the rest every 15 s.
    const due = accounts
      .filter((a) => {
        const s = statuses.get(a.id);
        return !s || ACTIVE.has(s.status?.phase ?? '') || s.status?.rerunQueued || (watched.get(a.id) ?? 0) > now || now - s.at > 15_000;
      })
      .sort((a, b) => (statuses.get(a.id)?.at ?? 0) - (statuses.get(b.id)?.at ?? 0))
      .slice(0, 4);
    await Promise.all(
      due.map(async (a) => {
        try {
          statuses.set(a.id, { status: await api<Status>('GET', `/api/external-accounts/${a.id}/status`), at: Date.now() });
        } catch (err) {
          if (!(err instanceof ApiFailure) || err.status !== 503) throw err;
          statuses.set(a.id, { unavailable: err.body.message, at: Date.now() });
        }
      }),
    );
    render();
  };
  every(1000, refresh);
}
