import type { Context } from 'hono';
import { badRequest, payloadTooLarge, unsupportedMediaType } from '../errors.ts';

/** Bodies of every route are capped: SDP and Twilio forms at 64 KB. */
export const MAX_BODY_BYTES = 65_536;

/** The media type of the request, lower-cased, without parameters. */
export function mediaType(c: Context): string {
  return (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
}

export function requireMediaType(c: Context, expected: string): void {
  if (mediaType(c) !== expected) throw unsupportedMediaType(expected);
}

/** Reads the body as text, refusing (413) anything over `limit` bytes, announced or not. */
export async function readText(c: Context, limit = MAX_BODY_BYTES): Promise<string> {
  const announced = Number(c.req.header('Content-Length') ?? '0');
  if (announced > limit) throw payloadTooLarge(limit);
  const body = c.req.raw.body;
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const ch of chunks) {
    all.set(ch, at);
    at += ch.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Reads an optional JSON body; an empty body gives `undefined`. */
export async function readJson(c: Context, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readText(c, limit);
  if (text.trim() === '') return undefined;
  requireMediaType(c, 'application/json');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('body is not valid JSON', 'bad_json');
  }
}
