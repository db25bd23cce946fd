/** At most this many field names are recorded per change. */
const MAX_FIELDS = 50;

/**
 * The names of the fields a change set, for the audit log: top-level keys, and one level into
 * objects (`oauth.refreshToken`), sorted. Never a value: a password changed shows as "password".
 */
export function changedFieldNames(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [];
  const names: string[] = [];
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const inner = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.keys(value) : [];
    if (inner.length > 0) {
      for (const name of inner) names.push(`${key}.${name}`);
    } else {
      names.push(key);
    }
  }
  return names
    .map((n) => n.slice(0, 100))
    .sort()
    .slice(0, MAX_FIELDS);
}
