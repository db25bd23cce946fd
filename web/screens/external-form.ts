/** Creating an external account, or editing one: only what changed is sent. */
import { api } from '../api';
import { flash, h, main, type Child } from '../dom';
import { field, form, input, select, valueOf } from '../forms';
import type { AccountList, CreatedExternalAccount, ExternalAccount } from '../types';

export function externalForm(id: string | null): void {
  const editing = id !== null;
  main().replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    const [current, local] = await Promise.all([
      id ? api<ExternalAccount>('GET', `/api/external-accounts/${id}`) : Promise.resolve(null),
      api<AccountList>('GET', '/api/accounts'),
    ]);
    const policy = current?.deletePolicy ?? 'never';
    const policyMode = typeof policy === 'string' ? policy : 'afterDays';
    const owner = select(
      local.accounts.map((a) => [a.id, a.address]),
      current?.ownerAccountId ?? '',
    );
    const fields: Child[] = [
      field('Name', 'name', input({ value: current?.name ?? '' })),
      ...(current
        ? [
            h(
              'p',
              { class: 'muted' },
              `${current.protocol.toUpperCase()}, for ${local.accounts.find((a) => a.id === current.ownerAccountId)?.address ?? ''}`,
            ),
          ]
        : [
            field('Owner (local account)', 'ownerAccountId', owner),
            field(
              'Protocol',
              'protocol',
              select(
                [
                  ['pop3', 'POP3'],
                  ['imap', 'IMAP'],
                ],
                'pop3',
              ),
            ),
          ]),
      field('Host', 'host', input({ value: current?.host ?? '' })),
      field(
        'Port',
        'port',
        input({ inputmode: 'numeric', value: current?.port ?? '', placeholder: 'the default for protocol and TLS mode' }),
      ),
      field(
        'TLS',
        'tlsMode',
        select(
          [
            ['starttls', 'STARTTLS required'],
            ['detect', 'STARTTLS if offered'],
            ['direct', 'TLS from the start (POP3S, IMAPS)'],
            ['disabled', 'none (plaintext)'],
          ],
          current?.tlsMode ?? 'detect',
        ),
      ),
      field(
        'CA certificate',
        'tlsCa',
        h('textarea', { rows: 3, placeholder: '-----BEGIN CERTIFICATE----- … (empty: the system CAs)' }, current?.tlsCa ?? ''),
      ),
      field('User name', 'username', input({ value: current?.username ?? '' })),
      field(
        'Password',
        'password',
        input({
          type: 'password',
          autocomplete: 'new-password',
          placeholder: editing ? 'unchanged; needed again for a new server, port, TLS setting or user name' : '',
        }),
      ),
      field('Interval (minutes)', 'intervalMinutes', input({ inputmode: 'numeric', value: current?.intervalMinutes ?? 30 })),
      field(
        'Delete from the server',
        'deletePolicy',
        select(
          [
            ['never', 'never'],
            ['immediately', 'once delivered'],
            ['afterDays', 'days after delivery:'],
          ],
          policyMode,
        ),
      ),
      field('Days', 'afterDays', input({ inputmode: 'numeric', value: typeof policy === 'string' ? 7 : policy.afterDays })),
      h(
        'div',
        { class: 'field check' },
        h('label', {}, h('input', { type: 'checkbox', name: 'enabled', checked: current?.enabled ?? true }), ' enabled'),
      ),
    ];
    const numberOrText = (raw: string): number | string => (raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw);
    const edit = form(
      editing ? 'Save' : 'Create',
      async (f) => {
        const mode = valueOf(f, 'deletePolicy');
        const values: Record<string, unknown> = {
          name: valueOf(f, 'name'),
          host: valueOf(f, 'host'),
          port: valueOf(f, 'port').trim() === '' ? undefined : numberOrText(valueOf(f, 'port')),
          tlsMode: valueOf(f, 'tlsMode'),
          tlsCa: valueOf(f, 'tlsCa').trim() === '' ? null : valueOf(f, 'tlsCa'),
          username: valueOf(f, 'username'),
          password: valueOf(f, 'password') || undefined,
          intervalMinutes: numberOrText(valueOf(f, 'intervalMinutes')),
          deletePolicy: mode === 'afterDays' ? { afterDays: numberOrText(valueOf(f, 'afterDays')) } : mode,
          enabled: (f.elements.namedItem('enabled') as HTMLInputElement).checked,
        };
        if (current) {
          // only what changed: a new host, port or user name starts a fresh index
          const stored = current as unknown as Record<string, unknown>;
          const patch = Object.fromEntries(
            Object.entries(values).filter(
              ([k, v]) => v !== undefined && (k === 'password' || JSON.stringify(v) !== JSON.stringify(stored[k] ?? null)),
            ),
          );
          await api('PATCH', `/api/external-accounts/${current.id}`, patch);
          flash(`${String(values.name)} saved`);
        } else {
          const created = await api<CreatedExternalAccount>('POST', '/api/external-accounts', {
            ...values,
            ownerAccountId: valueOf(f, 'ownerAccountId'),
            protocol: valueOf(f, 'protocol'),
          });
          flash(`${created.name} created; its first cycle starts now`);
        }
        location.hash = '#/';
      },
      ...fields,
    );
    // the days belong to the delete policy, and show only with it
    edit.querySelector('[data-error-for="afterDays"]')?.setAttribute('data-error-for', 'deletePolicy.afterDays');
    const mode = edit.elements.namedItem('deletePolicy') as HTMLSelectElement;
    const days = (edit.elements.namedItem('afterDays') as HTMLInputElement).closest('.field') as HTMLElement;
    const showDays = (): void => void (days.hidden = mode.value !== 'afterDays');
    mode.addEventListener('change', showDays);
    showDays();
    main().replaceChildren(
      h(
        'section',
        { class: 'card' },
        h('h1', {}, editing ? `Edit ${current?.name ?? ''}` : 'New external account'),
        edit,
        h('p', {}, h('a', { href: '#/' }, '← back')),
      ),
    );
  })().catch((err: unknown) => flash(err instanceof Error ? err.message : String(err), 'error'));
}
