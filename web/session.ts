import type { Me, UiConfig } from './types';

const TOKEN_KEY = 'mailpull-token';

/** Who is signed in, in this tab: the page's only state that outlives a screen. */
export const session: { token: string | null; me: Me | null; ui: UiConfig } = {
  token: sessionStorage.getItem(TOKEN_KEY),
  me: null,
  ui: { temporalUiUrl: null, temporalNamespace: 'default' },
};

export const canWrite = (): boolean => session.me?.scope === 'admin';
export const canReadMessages = (): boolean => session.me?.messagesRead === true;

export function keepToken(token: string): void {
  session.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forget(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.me = null;
}
