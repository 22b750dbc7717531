// Modify requests: only the fields a client sent change; a body that sends none changes nothing.

/** The entries whose value is not undefined, or null when none is left (drizzle refuses an empty SET). */
export function definedOnly<T extends Record<string, unknown>>(patch: T): Partial<T> | null {
  const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? null : (Object.fromEntries(entries) as Partial<T>);
}
