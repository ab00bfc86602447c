import type { IncomingMessage } from 'node:http';
import { StreamRefusedError } from './errors.ts';

/** Bodies beyond this are cut: a refusal's JSON error body is small. */
const MAX_BODY_BYTES = 64 * 1024;

/** Reads a plain-HTTP answer to the upgrade (401, 426, 429, ...) into a StreamRefusedError. */
export function refusalFromResponse(res: IncomingMessage): Promise<StreamRefusedError> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const retryAfter = Number(res.headers['retry-after']);
      resolve(new StreamRefusedError(res.statusCode ?? 0, body, res.headers['retry-after'] !== undefined && Number.isFinite(retryAfter) ? retryAfter : undefined));
    };
    res.on('data', (chunk: Buffer) => {
      if (size < MAX_BODY_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', done);
    res.on('error', done);
    res.on('aborted', done);
  });
}
