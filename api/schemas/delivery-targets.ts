import { z } from 'zod';
import { named, timestamp, tlsMode, answerUuid } from './answers';
import { host, protocolSafe, text, tlsCa } from './fields';

const deliveryTargetFields = {
  name: text(200).trim().min(1),
  kind: z.enum(['lmtp', 'smtp', 'imap']),
  host: host.nullable(),
  port: z.number().int().min(1).max(65535).nullable(),
  socketPath: text(1000)
    .regex(/^\/[^\0\r\n]*$/, 'must be an absolute path to a unix socket')
    .nullable(),
  tlsMode: z.enum(['detect', 'starttls', 'direct', 'disabled']),
  tlsCa,
  allowInvalidCertificates: z.boolean(),
  username: protocolSafe(320).nullable(),
  password: protocolSafe(1024).nullable(),
  imapLogin: z.enum(['master', 'user', 'oauth']).nullable(),
  maxConnections: z.number().int().min(1).max(50),
};

export const createDeliveryTarget = z.strictObject({
  ...deliveryTargetFields,
  host: deliveryTargetFields.host.default(null),
  port: deliveryTargetFields.port.optional(),
  socketPath: deliveryTargetFields.socketPath.default(null),
  tlsMode: deliveryTargetFields.tlsMode.default('detect'),
  tlsCa: deliveryTargetFields.tlsCa.default(null),
  allowInvalidCertificates: deliveryTargetFields.allowInvalidCertificates.default(false),
  username: deliveryTargetFields.username.default(null),
  password: deliveryTargetFields.password.optional(),
  imapLogin: deliveryTargetFields.imapLogin.optional(),
  maxConnections: deliveryTargetFields.maxConnections.default(5),
});

export const updateDeliveryTarget = z.strictObject(deliveryTargetFields).omit({ kind: true }).partial();

/** What the schema alone cannot check about a target: the field that does not fit, if any. */
export function deliveryTargetProblem(t: {
  kind: 'lmtp' | 'smtp' | 'imap';
  host: string | null;
  socketPath: string | null;
  username: string | null;
  imapLogin: 'master' | 'user' | 'oauth' | null;
  passwordSet: boolean;
}): { field: string; message: string } | null {
  if (t.socketPath !== null && t.kind !== 'lmtp') return { field: 'socketPath', message: 'a unix socket is for LMTP only' };
  if ((t.host === null) === (t.socketPath === null)) {
    return { field: 'host', message: 'give either host (and port) or, for LMTP, socketPath' };
  }
  if (t.kind === 'imap' && t.imapLogin === 'oauth') {
    if (t.username !== null || t.passwordSet) {
      return {
        field: t.username !== null ? 'username' : 'password',
        message:
          'imapLogin "oauth" logs in as each recipient with its own APPEND login (PUT /api/accounts/{id}/append-login); the target has none',
      };
    }
  } else if (t.kind === 'imap') {
    if (t.imapLogin === null) return { field: 'imapLogin', message: 'an IMAP target logs in as "master", "user" or "oauth"' };
    if (!t.username) return { field: 'username', message: 'IMAP APPEND needs a login (a master user, or the mailbox user)' };
    if (!t.passwordSet) return { field: 'password', message: 'IMAP APPEND needs the password of its login' };
  } else if (t.imapLogin !== null) {
    return { field: 'imapLogin', message: 'only IMAP targets have an imapLogin' };
  }
  if (t.kind !== 'imap' && (t.username === null) !== !t.passwordSet) {
    return { field: t.username === null ? 'username' : 'password', message: 'SMTP AUTH needs both username and password' };
  }
  return null;
}

export const deliveryTarget = named(
  'DeliveryTarget',
  z.object({
    id: answerUuid,
    name: z.string(),
    kind: z.enum(['lmtp', 'smtp', 'imap']),
    host: z.string().nullable(),
    port: z.number().int().nullable(),
    socketPath: z.string().nullable(),
    tlsMode,
    tlsCa: z.string().nullable(),
    allowInvalidCertificates: z.boolean(),
    username: z.string().nullable(),
    passwordSet: z.boolean(),
    imapLogin: z.enum(['master', 'user', 'oauth']).nullable(),
    maxConnections: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
export const deliveryTargetList = named('DeliveryTargetList', z.object({ deliveryTargets: z.array(deliveryTarget) }));
