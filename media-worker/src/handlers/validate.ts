/**
 * Option checks shared by the handler constructors. They run when a user's module builds its
 * handler (at load), so a typo fails the worker at start-up with a message naming the option,
 * instead of misbehaving mid-call.
 */

/** A finite number within [min, max]; `integer` also requires a whole number. */
export function checkNumber(
  where: string,
  name: string,
  value: unknown,
  { min, max, integer = false }: { min: number; max: number; integer?: boolean },
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: option "${name}" must be a finite number, got ${describe(value)}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`${where}: option "${name}" must be a whole number, got ${value}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${where}: option "${name}" must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function checkBoolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${where}: option "${name}" must be true or false, got ${describe(value)}`);
  }
  return value;
}

export function checkFunction<F>(where: string, name: string, value: unknown): F {
  if (typeof value !== 'function') {
    throw new TypeError(`${where}: ${name} must be a function, got ${describe(value)}`);
  }
  return value as F;
}

/** Rejects option names the constructor does not know (catches typos like `silenceMS`). */
export function checkKnownKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${where}: unknown option "${key}" (known: ${known.join(', ')})`);
    }
  }
}

/** Sample rates a handler may ask for: what the resampler supports and telephony/WebRTC use. */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
