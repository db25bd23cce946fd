import type { RecipientOutcome } from '../../core/delivery-outcome';
import { routeRecipients } from '../../core/delivery-routing';
import { classifyError } from '../../core/errors';
import { recipientHomes, recordDeliveries } from '../../db/deliveries';
import { getStoredTarget } from '../../db/delivery-targets';
import type { StoredExternalAccount } from '../../db/external-accounts';
import type { Parcel, TargetClient } from '../../mail/targets/target-client';
import type { DeliveryDeps, Letter, Routed, SentRecord } from './record';

/** One record's copy for one target, with the recipients it carries there. */
interface Addressed<R> {
  record: SentRecord<R>;
  parcel: Parcel & { recipients: { accountId: string; address: string }[] };
}

const noAnswer = (): RecipientOutcome => ({ status: 'temporary', response: 'the target gave no answer', unreachable: true });

/**
 * Routes every recipient of every record (the built-in store, or a delivery target) and hands each
 * record to the targets its recipients route to, all targets at once; recipients of the built-in
 * store are left to the commit. Each acceptance is recorded on its own as soon as the target gives
 * it (db/deliveries.ts), so whatever happens next, a retry never sends it to that recipient again:
 * a crash can resend only the message a connection had in flight. Never throws for a target's
 * failure (that is an outcome of its recipients), only when the record cannot be written. Returns
 * the records with their routes and answers, and the recipients' addresses.
 */
export async function sendToTargets<R extends { letter: Letter }>(
  { pool, keyring, targets }: DeliveryDeps,
  account: StoredExternalAccount,
  records: readonly R[],
): Promise<{ sent: SentRecord<R>[]; addresses: Map<string, string> }> {
  const homes = await recipientHomes(pool, [...new Set(records.flatMap((r) => r.letter.recipients))]);
  const sent = records.map((r): SentRecord<R> => ({ ...r, routed: new Map<string, Routed>() }));
  const byTarget = new Map<string, Addressed<R>[]>();
  for (const record of sent) {
    const { letter } = record;
    const routes = routeRecipients(
      letter.recipients.flatMap((id) => homes.get(id) ?? []),
      account.delivery,
    );
    const parcels = new Map<string, Addressed<R>['parcel']>();
    for (const accountId of letter.recipients) {
      const route = routes.get(accountId) ?? 'store';
      if (route === 'store') {
        record.routed.set(accountId, { route: 'store' });
        continue;
      }
      const parcel = parcels.get(route) ?? {
        raw: letter.raw,
        envelopeFrom: letter.envelopeFrom,
        folder: letter.localFolder,
        internalDate: letter.internalDate,
        flags: letter.flags,
        recipients: [],
      };
      parcel.recipients.push({ accountId, address: homes.get(accountId)?.address ?? '' });
      parcels.set(route, parcel);
    }
    for (const [targetId, parcel] of parcels) byTarget.set(targetId, [...(byTarget.get(targetId) ?? []), { record, parcel }]);
  }
  await Promise.all([...byTarget].map(([targetId, addressed]) => sendToTarget(targetId, addressed)));
  return { sent, addresses: new Map([...homes].map(([id, h]) => [id, h.address])) };

  /** One target's parcels, in order on its pooled connections; each recipient's answer lands on its record. */
  async function sendToTarget(targetId: string, addressed: readonly Addressed<R>[]): Promise<void> {
    const client = await clientOf(targetId);
    const answers =
      'status' in client
        ? addressed.map((a) => new Map(a.parcel.recipients.map((r) => [r.accountId, client])))
        : await client.deliver(
            addressed.map((a) => a.parcel),
            async (k, answered) => {
              const { ref, contentHash } = addressed[k].record.letter;
              const accepted = [...answered].filter(([, o]) => o.status === 'delivered');
              await recordDeliveries(
                pool,
                ref,
                { targetId, contentHash },
                accepted.map(([accountId, o]) => ({ accountId, response: o.response })),
              );
            },
          );
    addressed.forEach(({ record, parcel }, k) => {
      for (const { accountId } of parcel.recipients) {
        record.routed.set(accountId, { route: 'target', targetId, outcome: answers[k].get(accountId) ?? noAnswer() });
      }
    });
  }

  /** The target's client, or the outcome of every recipient if there is none to be had. */
  async function clientOf(targetId: string): Promise<TargetClient | RecipientOutcome> {
    try {
      const target = await getStoredTarget(pool, keyring, targetId);
      if (!target) throw new Error(`delivery target ${targetId} no longer exists`);
      return targets.get(target);
    } catch (err) {
      return { status: 'temporary', response: classifyError(err).message, unreachable: true };
    }
  }
}
