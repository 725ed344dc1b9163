/** True when a database error (possibly wrapped by drizzle) is a unique-constraint violation. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const { code, constraint_name: name, constraint: pgliteName } = current as Record<string, unknown>;
    if (code === '23505') {
      return constraint === undefined || name === constraint || pgliteName === constraint;
    }
    if (current === (current as { cause?: unknown }).cause) break;
  }
  return false;
}

export const iso = (date: Date): string => date.toISOString();
export const isoOrNull = (date: Date | null): string | null => (date ? date.toISOString() : null);
