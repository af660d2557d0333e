/**
 * JSON for recorded histories, which hold bigints (revisions, tokens, lease ids) and
 * Infinity (unknown operations' endMs) that plain JSON cannot carry. Encoded as
 * {"$bigint": "123"} and {"$number": "Infinity"} so a history written by the runner
 * re-checks offline exactly as recorded.
 */
export function historyToJson(history: unknown): string {
  return JSON.stringify(history, (_key, value: unknown) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() };
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    return value;
  });
}

/** The inverse of historyToJson; the caller asserts the type it expects. */
export function historyFromJson<T>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 1 && typeof record['$bigint'] === 'string') return BigInt(record['$bigint']);
      if (keys.length === 1 && typeof record['$number'] === 'string') return Number(record['$number']);
    }
    return value;
  }) as T;
}
