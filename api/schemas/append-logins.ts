import { z } from 'zod';
import { named, timestamp, answerUuid } from './answers';
import { oauthGrantView } from './external-accounts';
import { oauthFields, protocolSafe, uuid } from './fields';

/** A local account's own mailbox behind an IMAP target with imapLogin "oauth": the login and a new grant. */
export const setAppendLogin = z.strictObject({
  deliveryTargetId: uuid,
  username: protocolSafe(320),
  oauth: z.strictObject({
    ...oauthFields,
    tokenEndpoint: oauthFields.tokenEndpoint.optional(),
    clientSecret: oauthFields.clientSecret.optional(),
    scope: oauthFields.scope.optional(),
  }),
});

export const appendLogin = named(
  'AppendLogin',
  z.object({
    accountId: answerUuid,
    deliveryTargetId: answerUuid,
    username: z.string(),
    oauth: oauthGrantView,
    reauthorizationReason: z
      .string()
      .nullable()
      .meta({ description: 'set when the provider revoked the grant: messages for the account are held until it is linked again' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  'A local account\'s own mailbox behind an IMAP target with imapLogin "oauth"; secrets are never shown',
);
