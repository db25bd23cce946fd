import type { TestSystem } from '../../testkit/system';

// What Dovecot's LMTP puts in front of a message it delivers; nothing else may differ.
const TRACE_HEADERS = /^(?:(?:Return-Path|Delivered-To|Received):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)*$/i;

/**
 * For each original, how many delivered messages are exactly it, apart from trace headers the
 * receiving server prepended.
 */
export function deliveredCounts(delivered: readonly Buffer[], originals: readonly Buffer[]): number[] {
  const counts = originals.map(() => 0);
  for (const d of delivered) {
    const i = originals.findIndex(
      (o) =>
        d.length >= o.length &&
        d.subarray(d.length - o.length).equals(o) &&
        TRACE_HEADERS.test(d.subarray(0, d.length - o.length).toString('latin1')),
    );
    if (i >= 0) counts[i]++;
  }
  return counts;
}

/** A delivery target created through the API, and a local domain whose mail goes there. */
export async function domainWithTarget(
  sys: TestSystem,
  domain: string,
  target: Record<string, unknown>,
): Promise<{ targetId: string; domainId: string }> {
  const created = await sys.ok<{ id: string }>('POST', '/api/delivery-targets', { name: `${domain} target`, ...target });
  const { id: domainId } = await sys.ok<{ id: string }>('POST', '/api/domains', { name: domain, deliveryTargetId: created.id });
  return { targetId: created.id, domainId };
}
