/**
 * The mailpull admin page: one module, no framework. It uses only the public API, with the token
 * the operator signs in with (kept in sessionStorage for this tab, sent as a Bearer header), and
 * renders every value as text, never as HTML.
 */

interface Me {
  id: string;
  scope: string;
  /** may read message bodies (the Raw downloads) */
  messagesRead: boolean;
}
interface UiConfig {
  temporalUiUrl: string | null;
  temporalNamespace: string;
}
interface Domain {
  id: string;
  name: string;
  enabled: boolean;
}
interface Account {
  id: string;
  domainId: string;
  address: string;
  enabled: boolean;
}
type DeletePolicy = 'never' | 'immediately' | { afterDays: number };
interface ExternalAccount {
  id: string;
  name: string;
  ownerAccountId: string;
  enabled: boolean;
  protocol: 'pop3' | 'imap';
  host: string;
  port: number;
  tlsMode: string;
  tlsCa: string | null;
  username: string;
  intervalMinutes: number;
  deletePolicy: DeletePolicy;
}
/** A list item: the account and what its workflow reported last (null before its first report). */
interface ListedExternalAccount extends ExternalAccount {
  recordedStatus: {
    phase: string;
    lastRun: Status['lastRun'];
    lastError: Failure | null;
    nextRunAt: string | null;
    backlog: number;
    quarantined: number;
    recordedAt: string;
  } | null;
}
interface Failure {
  kind: string;
  message: string;
  at?: string;
}
interface Status {
  phase: string;
  disabledReason: string | null;
  progress: { done: number; total: number } | null;
  tlsWarning: string | null;
  folderWarning?: string | null;
  lastRun: { finishedAt: string; outcome: string; delivered: number; quarantined: number; held: number; tooLarge: number } | null;
  lastError: Failure | null;
  nextRunAt: string | null;
  rerunQueued: boolean;
  delivery: { backlog: number; quarantined: number; lastError: Failure | null };
  retrying: { activity: string; attempt: number; lastError: Failure } | null;
}
interface StoredMessage {
  id: string;
  folder: string;
  size: number;
  subject: string | null;
  from: string | null;
  deliveredAt: string;
}
interface HeldMessage {
  id: string;
  externalAccountId: string;
  size: number;
  subject: string | null;
  from: string | null;
  state: string;
  reason: string;
  attempts: number;
  createdAt: string;
  quarantinedAt: string | null;
  nextAttemptAt: string;
}
interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  issues?: { field: string; message: string }[];
}

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

// ---- API -------------------------------------------------------------------------------------

const TOKEN_KEY = 'mailpull-token';
let token = sessionStorage.getItem(TOKEN_KEY);
let me: Me | null = null;
let ui: UiConfig = { temporalUiUrl: null, temporalNamespace: 'default' };
const canWrite = (): boolean => me?.scope === 'admin';
const canReadMessages = (): boolean => me?.messagesRead === true;

async function request(method: string, path: string, body?: unknown, withToken = token): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${withToken ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.ok) return res;
  const text = await res.text();
  let parsed: ErrorBody;
  try {
    parsed = JSON.parse(text) as ErrorBody;
  } catch {
    parsed = { error: 'http_error', message: `${res.status} ${res.statusText}` };
  }
  if (res.status === 401 && withToken === token && me) signOut(parsed.message);
  throw new ApiFailure(res.status, parsed);
}

const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await request(method, path, body);
  return (res.status === 204 ? null : await res.json()) as T;
};

/** A raw message needs the token, so it is fetched here and handed to the browser as a file. */
async function download(path: string, filename: string): Promise<void> {
  const blob = await (await request('GET', path)).blob();
  const url = URL.createObjectURL(blob);
  h('a', { href: url, download: filename }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ---- DOM helpers -----------------------------------------------------------------------------

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** Every external account, page after page: the API answers at most 1,000 per request. */
async function listExternalAccounts(): Promise<ListedExternalAccount[]> {
  const all: ListedExternalAccount[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000' });
    if (cursor) query.set('cursor', cursor);
    const page: { externalAccounts: ListedExternalAccount[]; nextCursor: string | null } = await api(
      'GET',
      `/api/external-accounts?${query.toString()}`,
    );
    all.push(...page.externalAccounts);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** The recorded status in the live status's shape, until the live query for that account answers. */
function recordedAsStatus(recorded: NonNullable<ListedExternalAccount['recordedStatus']>): Status {
  return {
    phase: recorded.phase,
    disabledReason: null,
    progress: null,
    tlsWarning: null,
    lastRun: recorded.lastRun,
    lastError: recorded.lastError,
    nextRunAt: recorded.nextRunAt,
    rerunQueued: false,
    delivery: { backlog: recorded.backlog, quarantined: recorded.quarantined, lastError: null },
    retrying: null,
  };
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const main = (): HTMLElement => document.getElementById('main') as HTMLElement;

function flash(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const box = document.getElementById('flash') as HTMLElement;
  const note = h('p', { class: kind, role: kind === 'error' ? 'alert' : null }, message);
  box.append(note);
  setTimeout(() => note.remove(), 8000);
}

/** Runs a button's action with the button disabled; failures become a flash message. */
function action(label: string, name: string, run: () => Promise<void>, kind = ''): HTMLButtonElement {
  const button = h('button', { type: 'button', 'data-action': name, class: kind || null }, label);
  button.addEventListener('click', () => {
    button.disabled = true;
    run()
      .catch((err: unknown) => flash(err instanceof Error ? err.message : String(err), 'error'))
      .finally(() => (button.disabled = false));
  });
  return button;
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });

function relative(iso: string | null | undefined): string {
  if (!iso) return '—';
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'now';
  if (abs < 90) return rtf.format(seconds, 'second');
  if (abs < 90 * 60) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 36 * 3600) return rtf.format(Math.round(seconds / 3600), 'hour');
  return new Date(iso).toLocaleString();
}

const time = (iso: string | null | undefined): HTMLElement => h('time', { datetime: iso, title: iso }, relative(iso));

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const badge = (text: string, tone: string): HTMLElement => h('span', { class: `badge ${tone}` }, text);
const enabledBadge = (enabled: boolean): HTMLElement => (enabled ? badge('enabled', 'ok') : badge('disabled', 'off'));

function table(headings: string[], rows: Node[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('table', {}, h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', {}, t)))), h('tbody', {}, ...rows));
}

// ---- forms: the API names the field that is wrong, and its message stands next to it ----------

function field(label: string, name: string, input: HTMLElement, hint?: string): HTMLElement {
  input.setAttribute('name', name);
  input.id = `field-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: input.id }, label),
    input,
    hint ? h('small', { class: 'hint' }, hint) : null,
    h('small', { class: 'error', 'data-error-for': name }),
  );
}

const input = (attrs: Attrs = {}): HTMLInputElement => h('input', { type: 'text', autocomplete: 'off', ...attrs });

function select(options: [string, string][], value: string): HTMLSelectElement {
  return h('select', {}, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

const valueOf = (form: HTMLFormElement, name: string): string => (form.elements.namedItem(name) as HTMLInputElement).value;

function clearErrors(form: HTMLFormElement): void {
  form.querySelectorAll('.error').forEach((e) => (e.textContent = ''));
}

/** Puts each issue next to its field (a nested path like deletePolicy.afterDays at its first part), the rest at the form. */
function showErrors(form: HTMLFormElement, err: unknown): void {
  clearErrors(form);
  const failure = err instanceof ApiFailure ? err : null;
  const issues = failure?.body.issues ?? (failure?.body.field ? [{ field: failure.body.field, message: failure.body.message }] : []);
  let placed = false;
  for (const issue of issues) {
    const slot =
      form.querySelector(`[data-error-for="${CSS.escape(issue.field)}"]`) ??
      form.querySelector(`[data-error-for="${CSS.escape(issue.field.split('.')[0])}"]`);
    if (slot) {
      slot.textContent = issue.message;
      placed = true;
    }
  }
  if (!placed)
    (form.querySelector('[data-error-for="form"]') as HTMLElement).textContent = err instanceof Error ? err.message : String(err);
}

function form(submitLabel: string, onSubmit: (form: HTMLFormElement) => Promise<void>, ...fields: Child[]): HTMLFormElement {
  const el = h(
    'form',
    { novalidate: true },
    ...fields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, submitLabel)),
    h('small', { class: 'error', 'data-error-for': 'form' }),
  );
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = el.querySelector('button[type=submit]') as HTMLButtonElement;
    button.disabled = true;
    clearErrors(el);
    onSubmit(el)
      .catch((err: unknown) => showErrors(el, err))
      .finally(() => (button.disabled = false));
  });
  return el;
}

// ---- screens -----------------------------------------------------------------------------------

/** What the current screen polls; stopped when another screen is shown. */
let timers: number[] = [];
function every(ms: number, run: () => Promise<void>): void {
  let busy = false;
  const tick = (): void => {
    if (busy) return;
    busy = true;
    run()
      .catch((err: unknown) => flash(err instanceof Error ? err.message : String(err), 'error'))
      .finally(() => (busy = false));
  };
  tick();
  timers.push(window.setInterval(tick, ms));
}

function signOut(reason?: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  me = null;
  showSignIn(reason);
}

function showSignIn(reason?: string): void {
  timers.forEach((t) => clearInterval(t));
  timers = [];
  (document.getElementById('top') as HTMLElement).replaceChildren();
  const signIn = form(
    'Sign in',
    async (f) => {
      const candidate = valueOf(f, 'token').trim();
      try {
        me = (await (await request('GET', '/api/me', undefined, candidate)).json()) as Me;
      } catch (err) {
        if (err instanceof ApiFailure && err.status === 401) throw new ApiFailure(401, { ...err.body, field: 'token' });
        throw err;
      }
      token = candidate;
      sessionStorage.setItem(TOKEN_KEY, candidate);
      await start();
    },
    field(
      'API token',
      'token',
      input({ type: 'password', autofocus: true }),
      'make one with scripts/mailpull.sh tokens create (--read-only for a viewer)',
    ),
  );
  if (reason) (signIn.querySelector('[data-error-for="form"]') as HTMLElement).textContent = reason;
  main().replaceChildren(h('section', { class: 'card sign-in' }, h('h1', {}, 'mailpull'), signIn));
}

function header(screen: string): void {
  const link = (hash: string, label: string) => h('a', { href: hash, class: hash.slice(2) === screen ? 'current' : null }, label);
  (document.getElementById('top') as HTMLElement).replaceChildren(
    h('strong', { class: 'brand' }, 'mailpull'),
    h('nav', {}, link('#/', 'External accounts'), link('#/domains', 'Domains and accounts'), link('#/quarantine', 'Quarantine')),
    h(
      'span',
      { class: 'who' },
      h(
        'span',
        { title: `token ${me?.id ?? ''}, scope ${me?.scope ?? ''}` },
        canWrite() ? badge('admin', 'ok') : badge('read-only', 'off'),
      ),
      h('button', { type: 'button', class: 'link', onclick: () => signOut() }, 'Sign out'),
    ),
  );
}

function route(): void {
  timers.forEach((t) => clearInterval(t));
  timers = [];
  if (!me) return showSignIn();
  const [screen, id] = location.hash.replace(/^#\/?/, '').split('/');
  header(screen === 'accounts' ? 'domains' : screen === 'external' ? '' : screen);
  if (screen === 'domains') return domainsScreen();
  if (screen === 'accounts' && id) return messagesScreen(id);
  if (screen === 'quarantine') return quarantineScreen(id);
  if (screen === 'external' && id) return externalForm(id === 'new' ? null : id);
  return overviewScreen();
}

// -- external accounts and their live status

const ACTIVE = new Set(['starting', 'listing', 'downloading', 'deleting']);
const PHASE_TONE: Record<string, string> = { waiting: 'ok', disabled: 'off', reauthorization_needed: 'warn', stopped: 'off' };

function runSummary(run: NonNullable<Status['lastRun']>): string {
  if (run.outcome !== 'ok') return run.outcome;
  const parts = (['delivered', 'quarantined', 'held', 'tooLarge'] as const).filter((k) => run[k] > 0).map((k) => `${run[k]} ${k}`);
  return parts.join(', ') || 'nothing new';
}

function temporalLink(externalId: string): HTMLElement | null {
  if (!ui.temporalUiUrl) return null;
  const url = `${ui.temporalUiUrl}/namespaces/${encodeURIComponent(ui.temporalNamespace)}/workflows/${encodeURIComponent(`external-account:${externalId}`)}`;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'temporal' }, 'Temporal ↗');
}

function statusCells(status: Status | undefined, unavailable: string | undefined): HTMLElement[] {
  if (!status) return [h('td', { colspan: 4, class: 'muted' }, unavailable ?? 'loading…')];
  const phase = h(
    'td',
    { class: 'phase' },
    badge(status.phase.replace('_', ' '), status.lastError ? 'bad' : (PHASE_TONE[status.phase] ?? 'busy')),
    status.rerunQueued ? h('small', {}, ' another cycle queued') : null,
  );
  if (status.progress) {
    const { done, total } = status.progress;
    phase.append(
      h('div', { class: 'progress' }, h('progress', { max: Math.max(total, 1), value: done }), h('small', {}, `${done} / ${total}`)),
    );
  }
  const run = status.lastRun;
  const delivery = status.delivery.lastError && { kind: 'delivery', message: status.delivery.lastError.message };
  const problem = status.lastError ?? status.retrying?.lastError ?? delivery;
  return [
    phase,
    h(
      'td',
      {},
      run ? time(run.finishedAt) : '—',
      run ? h('div', { class: run.outcome === 'ok' ? 'muted' : 'bad-text' }, runSummary(run)) : null,
    ),
    h(
      'td',
      { class: 'problem' },
      problem ? h('span', { class: 'bad-text' }, `${problem.kind}: ${problem.message}`) : '—',
      status.retrying ? h('div', { class: 'muted' }, `${status.retrying.activity} retrying, attempt ${status.retrying.attempt}`) : null,
      status.tlsWarning ? h('div', { class: 'warn-text' }, status.tlsWarning) : null,
      status.folderWarning ? h('div', { class: 'warn-text' }, status.folderWarning) : null,
      status.disabledReason ? h('div', { class: 'muted' }, status.disabledReason) : null,
    ),
    h('td', {}, status.phase === 'waiting' ? time(status.nextRunAt) : '—'),
  ];
}

function overviewScreen(): void {
  let accounts: ExternalAccount[] = [];
  let owners = new Map<string, string>();
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
              const { forgotten } = await api<{ forgotten: number }>('POST', `/api/external-accounts/${account.id}/reset-index`, {
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
      const [list, local] = await Promise.all([listExternalAccounts(), api<{ accounts: Account[] }>('GET', '/api/accounts')]);
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

function externalForm(id: string | null): void {
  const editing = id !== null;
  main().replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    const [current, local] = await Promise.all([
      id ? api<ExternalAccount>('GET', `/api/external-accounts/${id}`) : Promise.resolve(null),
      api<{ accounts: Account[] }>('GET', '/api/accounts'),
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
          const created = await api<ExternalAccount>('POST', '/api/external-accounts', {
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

// -- domains and local accounts

function domainsScreen(): void {
  const domainList = h('div');
  const accountList = h('div');
  const write = canWrite();
  const load = async (): Promise<void> => {
    const [{ domains }, { accounts }] = await Promise.all([
      api<{ domains: Domain[] }>('GET', '/api/domains'),
      api<{ accounts: Account[] }>('GET', '/api/accounts'),
    ]);
    const toggle = (kind: 'domains' | 'accounts', item: { id: string; enabled: boolean }) =>
      write
        ? action(item.enabled ? 'Disable' : 'Enable', item.enabled ? 'disable' : 'enable', async () => {
            await api('PATCH', `/api/${kind}/${item.id}`, { enabled: !item.enabled });
            await load();
          })
        : null;
    domainList.replaceChildren(
      table(
        ['Domain', '', 'Accounts', ''],
        domains.map((d) =>
          h(
            'tr',
            { 'data-id': d.id },
            h('td', {}, d.name),
            h('td', {}, enabledBadge(d.enabled)),
            h('td', {}, accounts.filter((a) => a.domainId === d.id).length),
            h('td', {}, toggle('domains', d)),
          ),
        ),
        'No domains yet.',
      ),
    );
    accountList.replaceChildren(
      table(
        ['Account', '', ''],
        accounts.map((a) =>
          h(
            'tr',
            { 'data-id': a.id },
            h('td', {}, h('a', { href: `#/accounts/${a.id}` }, a.address)),
            h('td', {}, enabledBadge(a.enabled)),
            h('td', {}, toggle('accounts', a)),
          ),
        ),
        'No local accounts yet.',
      ),
    );
  };
  const create = (what: string, path: string, name: string, placeholder: string) =>
    form(
      `Add ${what}`,
      async (f) => {
        await api('POST', path, { [name]: valueOf(f, name) });
        (f.elements.namedItem(name) as HTMLInputElement).value = '';
        await load();
      },
      field(what === 'domain' ? 'Domain name' : 'Address', name, input({ placeholder })),
    );
  main().replaceChildren(
    h(
      'section',
      { class: 'card', id: 'domains' },
      h('h1', {}, 'Domains'),
      domainList,
      write ? create('domain', '/api/domains', 'name', 'example.com') : null,
    ),
    h(
      'section',
      { class: 'card', id: 'accounts' },
      h('h1', {}, 'Local accounts'),
      accountList,
      write ? create('account', '/api/accounts', 'address', 'alice@example.com') : null,
    ),
  );
  every(10_000, load);
}

function messagesScreen(accountId: string): void {
  const PAGE = 50;
  let offset: number | null = null; // null: the newest page
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const title = h('h1', {}, 'Messages');
  main().replaceChildren(h('section', { class: 'card' }, title, list));
  const load = async (): Promise<void> => {
    const account = await api<Account>('GET', `/api/accounts/${accountId}`);
    title.textContent = `Messages of ${account.address}`;
    const page = (at: number) =>
      api<{ total: number; messages: StoredMessage[] }>('GET', `/api/accounts/${accountId}/messages?limit=${PAGE}&offset=${at}`);
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

// -- quarantine

function quarantineScreen(externalId: string | undefined): void {
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
      api<{ total: number; messages: HeldMessage[] }>('GET', `/api/quarantine?${query.toString()}`),
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

// ---- start -------------------------------------------------------------------------------------

async function start(): Promise<void> {
  [me, ui] = await Promise.all([api<Me>('GET', '/api/me'), api<UiConfig>('GET', '/api/ui-config')]);
  route();
}

window.addEventListener('hashchange', route);
if (token) {
  start().catch(() => signOut('Sign in again: the saved token was not accepted.'));
} else {
  showSignIn();
}
