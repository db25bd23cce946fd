import type { z } from 'zod';
import type { DeletePolicy } from '../core/delete-policy';
import type { DeliveryChoice } from '../core/delivery-routing';
import { defaultPort } from '../core/tls-decision';
import type { ExternalAccountSettings } from '../db/external-accounts';
import type { deletePolicy, signInAccountFields } from './schemas';

/** How an external account's API fields map to its stored settings, both ways: the routes and the OAuth sign-in create accounts through it. */

type ApiDeletePolicy = z.infer<typeof deletePolicy>;

export const toPolicy = (p: ApiDeletePolicy): DeletePolicy =>
  typeof p === 'string' ? { mode: p } : { mode: 'afterDays', days: p.afterDays };
export const fromPolicy = (p: DeletePolicy): ApiDeletePolicy => (p.mode === 'afterDays' ? { afterDays: p.days } : p.mode);

/** null: the recipients' domains decide; 'store'; or a delivery target id */
type ApiDeliveryTarget = string | null;
export const toDelivery = (t: ApiDeliveryTarget): DeliveryChoice =>
  t === null ? { mode: 'domain' } : t === 'store' ? { mode: 'store' } : { mode: 'target', targetId: t };
export const fromDelivery = (d: DeliveryChoice): ApiDeliveryTarget =>
  d.mode === 'domain' ? null : d.mode === 'store' ? 'store' : d.targetId;

/** A new account's settings from the fields of a create (the secrets apart). */
export function newAccountSettings(
  input: z.infer<typeof signInAccountFields>,
  authMethod: ExternalAccountSettings['authMethod'],
): ExternalAccountSettings {
  const { intervalMinutes, deletePolicy: policy, port, deliveryTarget, ...rest } = input;
  return {
    ...rest,
    authMethod,
    port: port ?? defaultPort(input.protocol, input.tlsMode),
    intervalSeconds: intervalMinutes * 60,
    deletePolicy: toPolicy(policy),
    oauth: null,
    delivery: toDelivery(deliveryTarget),
  };
}
