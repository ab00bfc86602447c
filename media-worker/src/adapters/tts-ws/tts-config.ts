/**
 * Settings checks shared by the ElevenLabs and Cartesia TTS adapters: the provider URL, time
 * limits, and the text a reply may be given. Bad settings throw `AdapterConfigError` when the
 * service is created; bad text throws when it is pushed.
 */
import { AdapterConfigError } from '../types.ts';

/** The most text one reply takes (characters): a bound on what the outbox may hold while connecting. */
export const MAX_REPLY_CHARS = 20_000;

/** The provider's base URL (ws: or wss:), from the option, else the env variable, else the default. */
export function baseUrl(value: string | undefined, envName: string, fallback: string, env: NodeJS.ProcessEnv): string {
  const raw = (value ?? env[envName]?.trim()) || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AdapterConfigError(`${envName} (or the url option) is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new AdapterConfigError(`${envName} (or the url option) must be a ws:// or wss:// URL, got ${url.protocol}//`);
  }
  return raw.replace(/\/+$/, '');
}

/** A time limit in ms: a positive finite number, or the default. */
export function limitMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new AdapterConfigError(`${name} must be a positive number of ms, got ${value}`);
  return value;
}

/** A required non-empty string setting. */
export function requiredString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new AdapterConfigError(`${name} must be a non-empty string`);
  return value.trim();
}

/** Checks one push of reply text against what was already pushed; returns the new total. */
export function checkPush(provider: string, text: unknown, ended: boolean, charsSoFar: number): number {
  if (typeof text !== 'string') throw new TypeError(`${provider} TTS: push() takes a string, got ${typeof text}`);
  if (ended) throw new Error(`${provider} TTS: push() after end()`);
  const total = charsSoFar + text.length;
  if (total > MAX_REPLY_CHARS) throw new RangeError(`${provider} TTS: a reply is limited to ${MAX_REPLY_CHARS} characters of text`);
  return total;
}
