import { z } from 'zod';
import { DEFAULT_RECIPIENT_HEADERS } from '../core/recipients';

export const idParam = (name: string) => z.object({ [name]: z.uuid({ message: 'must be a UUID' }) });

// Labels of a domain name: letters, digits, hyphens; at least one dot.
const domainName = z
  .string()
  .trim()
  .min(3)
  .max(253)
  .regex(/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9-]{2,63}$/, 'must be a domain name like example.com');

export const createDomain = z.strictObject({ name: domainName, enabled: z.boolean().default(true) });
export const updateDomain = z.strictObject({ enabled: z.boolean() });

const address = z
  .string()
  .trim()
  .max(320)
  .regex(/^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/, 'must be an e-mail address like user@example.com');

export const createAccount = z.strictObject({ address, enabled: z.boolean().default(true) });
export const updateAccount = z.strictObject({ enabled: z.boolean() });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  folder: z.string().min(1).max(1000).optional(),
});

// CR, LF and NUL would let a value inject protocol commands.
const protocolSafe = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\r\n\0]+$/, 'must not contain line breaks or NUL');

const host = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$|^[0-9a-fA-F:.]+$/, 'must be a host name or IP address');

export const deletePolicy = z.union([
  z.literal('never'),
  z.literal('immediately'),
  z.strictObject({ afterDays: z.number().int().min(0).max(36500) }),
]);

const mimeRecipients = z.strictObject({
  enabled: z.boolean(),
  headers: z
    .array(z.string().regex(/^[!-9;-~]{1,76}$/, 'must be a header field name'))
    .min(1)
    .max(20)
    .default([...DEFAULT_RECIPIENT_HEADERS]),
});

const externalAccountFields = {
  ownerAccountId: z.uuid({ message: 'must be a UUID' }),
  name: z.string().trim().min(1).max(200),
  enabled: z.boolean(),
  protocol: z.literal('pop3'),
  host,
  port: z.number().int().min(1).max(65535),
  tlsMode: z.enum(['detect', 'direct', 'disabled']),
  tlsCa: z
    .string()
    .max(64 * 1024)
    .regex(/-----BEGIN CERTIFICATE-----/, 'must be a PEM certificate')
    .nullable(),
  username: protocolSafe(320),
  password: protocolSafe(1024),
  intervalMinutes: z.number().int().min(1).max(7 * 24 * 60),
  deletePolicy,
  mimeRecipients,
};

export const createExternalAccount = z.strictObject({
  ...externalAccountFields,
  enabled: externalAccountFields.enabled.default(true),
  protocol: externalAccountFields.protocol.default('pop3'),
  port: externalAccountFields.port.optional(),
  tlsMode: externalAccountFields.tlsMode.default('detect'),
  tlsCa: externalAccountFields.tlsCa.default(null),
  intervalMinutes: externalAccountFields.intervalMinutes.default(30),
  deletePolicy: deletePolicy.default('never'),
  mimeRecipients: mimeRecipients.default({ enabled: false, headers: [...DEFAULT_RECIPIENT_HEADERS] }),
});

export const updateExternalAccount = z.strictObject(externalAccountFields).omit({ ownerAccountId: true, protocol: true }).partial();

export type CreateExternalAccount = z.infer<typeof createExternalAccount>;
export type UpdateExternalAccount = z.infer<typeof updateExternalAccount>;
