import { createHash } from 'node:crypto';
import tls from 'node:tls';

/** Most distinct CA sets whose contexts are kept; the least recently used one goes first. */
const MAX_CONTEXTS = 64;

/**
 * The key a secure context is cached under: the system roots alone, or the system roots with one
 * extra CA (PEM text), named by its hash.
 */
export const caSetKey = (extraCa: string | null | undefined): string =>
  extraCa ? `roots+${createHash('sha256').update(extraCa).digest('hex')}` : 'roots';

/**
 * Secure contexts by CA set. Building one parses every root certificate (about 140, tens of ms of
 * CPU and memory held by OpenSSL per context); connections that trust the same CAs share one.
 */
export class SecureContextCache {
  private readonly contexts = new Map<string, tls.SecureContext>();
  private builds = 0;

  constructor(
    private readonly create: (options: tls.SecureContextOptions) => tls.SecureContext = tls.createSecureContext,
    private readonly max = MAX_CONTEXTS,
  ) {}

  /** The context trusting the system roots and, if given, one extra CA. */
  get(extraCa: string | null | undefined): tls.SecureContext {
    const key = caSetKey(extraCa);
    const cached = this.contexts.get(key);
    if (cached) {
      // most recently used last, so eviction takes the oldest
      this.contexts.delete(key);
      this.contexts.set(key, cached);
      return cached;
    }
    const context = this.create(extraCa ? { ca: [...tls.rootCertificates, extraCa] } : {});
    this.builds++;
    this.contexts.set(key, context);
    if (this.contexts.size > this.max) this.contexts.delete(this.contexts.keys().next().value as string);
    return context;
  }

  /** contexts built so far (a cache hit builds none) */
  get built(): number {
    return this.builds;
  }

  get size(): number {
    return this.contexts.size;
  }
}

const shared = new SecureContextCache();

/** The process-wide secure context for a CA set (see SecureContextCache). */
export const secureContextFor = (extraCa: string | null | undefined): tls.SecureContext => shared.get(extraCa);
