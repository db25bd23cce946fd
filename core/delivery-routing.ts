/** Where an external account sends its mail: its recipients' domains decide, or it overrides them. */
export type DeliveryChoice = { mode: 'domain' } | { mode: 'store' } | { mode: 'target'; targetId: string };

/** A local recipient and its domain's delivery target (null: the built-in store). */
export interface RecipientHome {
  accountId: string;
  address: string;
  domainTargetId: string | null;
}

/** 'store' or a delivery target id. */
export type Route = string;

/** The route of each recipient: the account's override if it has one, else the recipient's domain. */
export function routeRecipients(recipients: readonly RecipientHome[], choice: DeliveryChoice): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const r of recipients) {
    if (choice.mode === 'store') routes.set(r.accountId, 'store');
    else if (choice.mode === 'target') routes.set(r.accountId, choice.targetId);
    else routes.set(r.accountId, r.domainTargetId ?? 'store');
  }
  return routes;
}
