// Not in config.ts, which reads the environment: the API's schemas, and through them the admin page's types, need it too.
/**
 * The largest message the store can hold and give back: the driver reads a bytea as hex text into
 * one JavaScript string, at most 2^29 - 24 characters in Node 20, so below 256 MiB (PostgreSQL's
 * own limit is 1 GB). A larger global limit would let through messages whose storing or reading
 * fails on every cycle.
 */
export const MAX_STORED_MESSAGE_BYTES = 255 * 1024 * 1024;
