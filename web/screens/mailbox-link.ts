/**
 * A local account's own mailbox at Google or Microsoft (its APPEND login): which one is linked,
 * and signing in at the provider to link it behind an IMAP target with imapLogin "oauth".
 */
import { api, ApiFailure } from '../api';
import { action, badge, h } from '../dom';
import { field, input, select, showErrors, valueOf } from '../forms';
import { oauthApps, providerName, signInAt } from '../oauth';
import { canWrite } from '../session';
import type { AppendLogin, DeliveryTargetList, OAuthApp } from '../types';

const PROVIDER_NAMES: Record<OAuthApp['provider'], string> = { google: 'Gmail', microsoft: 'Microsoft', custom: '' };

/** "Link Gmail mailbox"; another authorization server by its host. */
const linkLabel = (app: OAuthApp): string => `Link ${providerName(app, PROVIDER_NAMES)} mailbox`;

async function linkedLogin(accountId: string): Promise<AppendLogin | null> {
  try {
    return await api<AppendLogin>('GET', `/api/accounts/${accountId}/append-login`);
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 404) return null;
    throw err;
  }
}

/** The card on the account's screen: the linked login, and (to an admin) the sign-in that links one. */
export async function mailboxLinkCard(accountId: string): Promise<HTMLElement> {
  const write = canWrite();
  const [login, targets, apps] = await Promise.all([
    linkedLogin(accountId),
    write ? api<DeliveryTargetList>('GET', '/api/delivery-targets') : Promise.resolve({ deliveryTargets: [] }),
    write ? oauthApps() : Promise.resolve({ redirectUri: '', apps: [] }),
  ]);
  const oauthTargets = targets.deliveryTargets.filter((t) => t.kind === 'imap' && t.imapLogin === 'oauth');
  const shown = login
    ? h(
        'p',
        { class: 'linked-login' },
        `Delivered into ${login.username} (${login.oauth.provider}) through ${targets.deliveryTargets.find((t) => t.id === login.deliveryTargetId)?.name ?? 'its IMAP target'} `,
        login.reauthorizationReason ? badge('reauthorization needed', 'bad') : badge('linked', 'ok'),
      )
    : h('p', { class: 'muted linked-login' }, 'No mailbox at a provider is linked.');
  let linkForm: HTMLElement | null = null;
  if (write && oauthTargets.length > 0 && apps.apps.length > 0) {
    const form = h(
      'form',
      { novalidate: true, id: 'link-mailbox' },
      field(
        'IMAP delivery target',
        'deliveryTargetId',
        select(
          oauthTargets.map((t) => [t.id, t.name]),
          login?.deliveryTargetId ?? oauthTargets[0].id,
        ),
      ),
      field('Mailbox address at the provider', 'username', input({ value: login?.username ?? '', placeholder: 'alice@gmail.com' })),
      h(
        'div',
        { class: 'actions' },
        ...apps.apps.map((app) =>
          action(linkLabel(app), `link-mailbox-${app.provider}`, async () => {
            try {
              await signInAt(
                app.provider,
                { localAccountId: accountId, deliveryTargetId: valueOf(form, 'deliveryTargetId'), username: valueOf(form, 'username') },
                `/#/accounts/${accountId}`,
              );
            } catch (err) {
              showErrors(form, err);
            }
          }),
        ),
      ),
      h('small', { class: 'error', 'data-error-for': 'form' }),
    );
    linkForm = form;
  } else if (write && !login) {
    shown.append(' To link one, add an IMAP delivery target with imapLogin "oauth" and an OAuth app for the provider.');
  }
  return h('section', { class: 'card', id: 'mailbox-link' }, h('h2', {}, 'Own mailbox at a provider'), shown, linkForm);
}
