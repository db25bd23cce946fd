import { ApiFailure, request } from '../api';
import { h, main } from '../dom';
import { field, form, input, valueOf } from '../forms';
import { stopPolling } from '../polling';
import { keepToken, session } from '../session';
import type { Me } from '../types';

/** The token form; `reason` says why it is shown again. */
export function signInScreen(onSignedIn: () => Promise<void>, reason?: string): void {
  stopPolling();
  (document.getElementById('top') as HTMLElement).replaceChildren();
  const signIn = form(
    'Sign in',
    async (f) => {
      const candidate = valueOf(f, 'token').trim();
      try {
        session.me = (await (await request('GET', '/api/me', undefined, candidate)).json()) as Me;
      } catch (err) {
        if (err instanceof ApiFailure && err.status === 401) throw new ApiFailure(401, { ...err.body, field: 'token' });
        throw err;
      }
      keepToken(candidate);
      await onSignedIn();
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
