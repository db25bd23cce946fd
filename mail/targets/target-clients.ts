import type { NetworkPolicy } from '../../core/network-policy';
import type { StoredDeliveryTarget } from '../../core/delivery-target';
import { imapAppendTarget } from './imap-append-target';
import { smtpTarget } from './smtp-target';
import type { AppendCredentials, TargetClient } from './target-client';

/**
 * One client (connection pool) per delivery target for the life of the worker, rebuilt when the
 * target's settings change.
 */
export class TargetClients {
  private readonly clients = new Map<string, { version: number; client: TargetClient }>();

  constructor(
    private readonly timeoutMs: number,
    /** which addresses and unix sockets the targets may have */
    private readonly networkPolicy: NetworkPolicy,
    /** the local accounts' own logins, for IMAP targets with imapLogin "oauth" */
    private readonly appendCredentials?: AppendCredentials,
  ) {}

  get(target: StoredDeliveryTarget): TargetClient {
    const version = new Date(target.updatedAt).getTime();
    const cached = this.clients.get(target.id);
    if (cached?.version === version) return cached.client;
    cached?.client.close();
    const client =
      target.kind === 'imap'
        ? imapAppendTarget(target, this.timeoutMs, this.networkPolicy, this.appendCredentials)
        : smtpTarget(target, this.timeoutMs, this.networkPolicy);
    this.clients.set(target.id, { version, client });
    return client;
  }

  closeAll(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
