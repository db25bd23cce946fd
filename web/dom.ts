/** Building the page: every value goes in as text, never as HTML. */

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
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

export const main = (): HTMLElement => document.getElementById('main') as HTMLElement;

export function flash(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const box = document.getElementById('flash') as HTMLElement;
  const note = h('p', { class: kind, role: kind === 'error' ? 'alert' : null }, message);
  box.append(note);
  setTimeout(() => note.remove(), 8000);
}

/** Runs a button's action with the button disabled; failures become a flash message. */
export function action(label: string, name: string, run: () => Promise<void>, kind = ''): HTMLButtonElement {
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

export const time = (iso: string | null | undefined): HTMLElement => h('time', { datetime: iso, title: iso }, relative(iso));

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export const badge = (text: string, tone: string): HTMLElement => h('span', { class: `badge ${tone}` }, text);
export const enabledBadge = (enabled: boolean): HTMLElement => (enabled ? badge('enabled', 'ok') : badge('disabled', 'off'));

export function table(headings: string[], rows: Node[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('table', {}, h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', {}, t)))), h('tbody', {}, ...rows));
}
