/** Which screen the address shows (#/, #/domains, #/accounts/ID, #/quarantine[/ID], #/external/ID|new). */
import { api } from './api';
import { badge, h } from './dom';
import { stopPolling } from './polling';
import { domainsScreen } from './screens/domains';
import { externalForm } from './screens/external-form';
import { messagesScreen } from './screens/messages';
import { overviewScreen } from './screens/overview';
import { quarantineScreen } from './screens/quarantine';
import { signInScreen } from './screens/sign-in';
import { canWrite, forget, session } from './session';
import type { Me, UiConfig } from './types';

/** Asks who the token is and what the page may link to, then shows the screen the address names. */
export async function start(): Promise<void> {
  [session.me, session.ui] = await Promise.all([api<Me>('GET', '/api/me'), api<UiConfig>('GET', '/api/ui-config')]);
  route();
}

export function signOut(reason?: string): void {
  forget();
  signInScreen(start, reason);
}

function header(screen: string): void {
  const link = (hash: string, label: string) => h('a', { href: hash, class: hash.slice(2) === screen ? 'current' : null }, label);
  const me = session.me;
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

export function route(): void {
  stopPolling();
  if (!session.me) return signInScreen(start);
  const [screen, id] = location.hash.replace(/^#\/?/, '').split('/');
  header(screen === 'accounts' ? 'domains' : screen === 'external' ? '' : screen);
  if (screen === 'domains') return domainsScreen();
  if (screen === 'accounts' && id) return messagesScreen(id);
  if (screen === 'quarantine') return quarantineScreen(id);
  if (screen === 'external' && id) return externalForm(id === 'new' ? null : id);
  return overviewScreen();
}
