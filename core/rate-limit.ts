/** Whether a request may go ahead, and if not, when the next one would. */
export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

/**
 * A token bucket per key (an API token's id, a client address): up to `perMinute` requests at
 * once, refilled at `perMinute` a minute. At most `maxKeys` buckets are kept, the least recently
 * used go first, so the table stays bounded. Time comes from the caller.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 10_000,
  ) {}

  private refilled(key: string, nowMs: number): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.perMinute;
    return Math.min(this.perMinute, bucket.tokens + (Math.max(0, nowMs - bucket.at) * this.perMinute) / 60_000);
  }

  private decision(tokens: number): RateDecision {
    if (tokens >= 1) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - tokens) * 60) / this.perMinute)) };
  }

  /** Whether take() would allow a request now, without taking one. */
  check(key: string, nowMs: number): RateDecision {
    return this.decision(this.refilled(key, nowMs));
  }

  take(key: string, nowMs: number): RateDecision {
    const tokens = this.refilled(key, nowMs);
    this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    const decision = this.decision(tokens);
    this.buckets.set(key, { tokens: decision.allowed ? tokens - 1 : tokens, at: nowMs });
    return decision;
  }

  /** Gives back a request taken for something that turned out not to count. */
  refund(key: string): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.perMinute, bucket.tokens + 1);
  }

  get size(): number {
    return this.buckets.size;
  }
}
