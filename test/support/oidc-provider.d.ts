// oidc-provider ships no types (its own are in @types/oidc-provider, not installed): what the tests use of it.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Model {
    save(): Promise<string>;
    destroy(): Promise<void>;
  }
  interface ModelClass<T> {
    new (fields: Record<string, unknown>): T & Model;
    find(id: string): Promise<(T & Model) | undefined>;
  }
  interface GrantModel {
    addOIDCScope(scope: string): void;
  }
  interface KoaContext {
    path: string;
    method: string;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    Grant: ModelClass<GrantModel>;
    RefreshToken: ModelClass<Record<string, unknown>>;
    Client: { find(id: string): Promise<unknown> };
    proxy: boolean;
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
