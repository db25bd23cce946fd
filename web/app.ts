/**
 * The mailpull admin page, no framework: web/ holds its modules, bundled into one script by
 * esbuild. It uses only the public API, with the token the operator signs in with (kept in
 * sessionStorage for this tab, sent as a Bearer header), and renders every value as text, never
 * as HTML.
 */
import { onUnauthorized } from './api';
import { showSignInOutcome } from './oauth';
import { route, signOut, start } from './router';
import { signInScreen } from './screens/sign-in';
import { session } from './session';

onUnauthorized(signOut);
window.addEventListener('hashchange', route);
showSignInOutcome();
if (session.token) {
  start().catch(() => signOut('Sign in again: the saved token was not accepted.'));
} else {
  signInScreen(start);
}
