/** Whether a request may go ahead, and if not, when the next one would. */
export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

/**
 * A token bucket per key (an API token's id): up to `perMinute` requests at once, refilled at
 * `perMinute` a minute. At most `maxKeys` buckets are kept, the least recently used go first, so
 * unknown keys cannot grow it without bound. Time comes from the caller.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 10_000,
  ) {}

  take(key: string, nowMs: number): RateDecision {
    const perMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: nowMs };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + Math.max(0, nowMs - bucket.at) * perMs);
    bucket.at = nowMs;
    this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }

  get size(): number {
    return this.buckets.size;
  }
}
