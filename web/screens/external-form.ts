/**
 * Creating an external account (from a provider preset, with a password or by signing in at the
 * provider), or editing one: only what changed is sent.
 */
import { ApiFailure, api } from '../api';
import { action, flash, h, main, type Child } from '../dom';
import { field, form, input, select, showErrors, valueOf } from '../forms';
import { oauthApps, signInAt, signInLabel } from '../oauth';
import type { AccountList, CreatedExternalAccount, ExternalAccount, OAuthApp, OAuthAppList, ProviderList, ProviderPreset } from '../types';

const sentence = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;

const setValue = (f: HTMLFormElement, name: string, value: string | number): void => {
  (f.elements.namedItem(name) as HTMLInputElement).value = String(value);
};

/**
 * The preset's server in the form, and what the admin must know: a provider that signs in with
 * OAuth2 needs its app configured first.
 */
function applyPreset(f: HTMLFormElement, preset: ProviderPreset | undefined, apps: OAuthAppList, note: HTMLElement): void {
  if (!preset) {
    note.textContent = '';
    return;
  }
  setValue(f, 'protocol', 'imap');
  setValue(f, 'host', preset.imap.host);
  setValue(f, 'port', preset.imap.port);
  setValue(f, 'tlsMode', preset.imap.tlsMode);
  const missing = preset.oauthProvider && !apps.apps.some((a) => a.provider === preset.oauthProvider);
  note.textContent = missing
    ? `${sentence(preset.note)} No ${preset.oauthProvider === 'google' ? 'Google' : 'Microsoft'} OAuth app is configured in this installation yet: register one with the redirect URL ${apps.redirectUri} (docs/oauth.md says how).`
    : sentence(preset.note);
}

/** The sign-in buttons, one per configured app; the preset's provider first. */
function signInButtons(f: HTMLFormElement, apps: OAuthApp[], account: () => Record<string, unknown>): HTMLElement | null {
  if (apps.length === 0) return null;
  const buttons = apps.map((app) =>
    action(signInLabel(app), `sign-in-${app.provider}`, async () => {
      try {
        await signInAt(app.provider, { account: account() });
      } catch (err) {
        if (!(err instanceof ApiFailure)) throw err;
        // the new account's fields come back as account.host etc.; they stand next to the form's own
        const unprefix = (field: string): string => field.replace(/^account\./, '');
        showErrors(
          f,
          new ApiFailure(err.status, {
            ...err.body,
            field: err.body.field ? unprefix(err.body.field) : undefined,
            issues: err.body.issues?.map((i) => ({ ...i, field: unprefix(i.field) })),
          }),
        );
      }
    }),
  );
  return h(
    'div',
    { class: 'oauth-sign-in' },
    h('p', { class: 'muted' }, 'Or, instead of a password, sign in at the provider: the account is created once it agrees.'),
    h('div', { class: 'actions' }, ...buttons),
  );
}

export function externalForm(id: string | null): void {
  const editing = id !== null;
  main().replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    const [current, local, presets, apps] = await Promise.all([
      id ? api<ExternalAccount>('GET', `/api/external-accounts/${id}`) : Promise.resolve(null),
      api<AccountList>('GET', '/api/accounts'),
      id ? Promise.resolve(null) : api<ProviderList>('GET', '/api/providers'),
      id ? Promise.resolve({ redirectUri: '', apps: [] }) : oauthApps(),
    ]);
    const presetNote = h('small', { class: 'hint preset-note' });
    const policy = current?.deletePolicy ?? 'never';
    const policyMode = typeof policy === 'string' ? policy : 'afterDays';
    const owner = select(
      local.accounts.map((a) => [a.id, a.address]),
      current?.ownerAccountId ?? '',
    );
    const presetField = current
      ? null
      : field(
          'Provider',
          'preset',
          select(
            [['', 'Another server (enter it below)'], ...(presets?.providers ?? []).map((p): [string, string] => [p.name, p.label])],
            '',
          ),
        );
    presetField?.insertBefore(presetNote, presetField.querySelector('[data-error-for]'));
    const fields: Child[] = [
      presetField,
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
    /** The settings as the form shows them, without the password. */
    const settingsOf = (f: HTMLFormElement): Record<string, unknown> => {
      const mode = valueOf(f, 'deletePolicy');
      return {
        name: valueOf(f, 'name'),
        host: valueOf(f, 'host'),
        port: valueOf(f, 'port').trim() === '' ? undefined : numberOrText(valueOf(f, 'port')),
        tlsMode: valueOf(f, 'tlsMode'),
        tlsCa: valueOf(f, 'tlsCa').trim() === '' ? null : valueOf(f, 'tlsCa'),
        username: valueOf(f, 'username'),
        intervalMinutes: numberOrText(valueOf(f, 'intervalMinutes')),
        deletePolicy: mode === 'afterDays' ? { afterDays: numberOrText(valueOf(f, 'afterDays')) } : mode,
        enabled: (f.elements.namedItem('enabled') as HTMLInputElement).checked,
      };
    };
    /** A new account's own fields beside the settings: whose it is, how it is reached. */
    const newAccountOf = (f: HTMLFormElement): Record<string, unknown> => ({
      ...settingsOf(f),
      ownerAccountId: valueOf(f, 'ownerAccountId'),
      protocol: valueOf(f, 'protocol'),
    });
    const edit = form(
      editing ? 'Save' : 'Create',
      async (f) => {
        const values: Record<string, unknown> = { ...settingsOf(f), password: valueOf(f, 'password') || undefined };
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
          const preset = valueOf(f, 'preset');
          // with a password the preset's server is used for an app password, whatever its usual sign-in
          const created = await api<CreatedExternalAccount>('POST', '/api/external-accounts', {
            ...newAccountOf(f),
            password: values.password,
            ...(preset ? { provider: preset, authMethod: 'password' } : {}),
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
    if (!editing) {
      const preset = edit.elements.namedItem('preset') as HTMLSelectElement;
      preset.addEventListener('change', () =>
        applyPreset(
          edit,
          presets?.providers.find((p) => p.name === preset.value),
          apps,
          presetNote,
        ),
      );
    }
    const signIn = editing ? null : signInButtons(edit, apps.apps, () => newAccountOf(edit));
    main().replaceChildren(
      h(
        'section',
        { class: 'card' },
        h('h1', {}, editing ? `Edit ${current?.name ?? ''}` : 'New external account'),
        edit,
        signIn,
        h('p', {}, h('a', { href: '#/' }, '← back')),
      ),
    );
  })().catch((err: unknown) => flash(err instanceof Error ? err.message : String(err), 'error'));
}
