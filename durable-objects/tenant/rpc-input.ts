// Validation of RPC arguments: callers are our own Worker, so bad input is a bug and throws
// TypeError/RangeError, which keep their type across the RPC boundary.

export function requireObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** A non-negative safe integer (epoch ms, amounts, cursors). */
export function requireCount(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
  return value;
}

export function optionalCount(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : requireCount(name, value);
}

export function requireMatch(name: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new RangeError(`${name} must match ${pattern}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Idempotency keys: 1–200 printable ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function optionalIdempotencyKey(value: unknown): string | undefined {
  return value === undefined ? undefined : requireMatch("idempotencyKey", value, IDEMPOTENCY_KEY);
}
