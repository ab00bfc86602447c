import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { bodyStart } from './signed-webhook.ts';

/** WebSocket opening handshake limit. */
export const UPGRADE_TIMEOUT_MS = 10_000;

/**
 * Opens a media stream's WebSocket as the provider does: to `requestUrl` (where the markup's
 * stream URL is reached) with the provider's upgrade headers. Rejects with the HTTP status and
 * body start when the upgrade is refused (naming `signatureHeader` on a 403), and after
 * UPGRADE_TIMEOUT_MS.
 */
export function openStream(requestUrl: string, headers: Record<string, string>, signatureHeader: string | null, signal?: AbortSignal): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(requestUrl, { headers, handshakeTimeout: UPGRADE_TIMEOUT_MS, perMessageDeflate: false });
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners();
      ws.on('error', () => {}); // late errors of the discarded socket
      ws.terminate();
      reject(err);
    };
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('unexpected-response');
      ws.removeAllListeners('error');
      resolve(ws);
    });
    ws.once('error', (err) => fail(new Error(`media stream ${requestUrl}: ${err.message}`)));
    ws.once('unexpected-response', (req, res: IncomingMessage) => {
      let body = '';
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        const refused = res.statusCode === 403 ? (signatureHeader ? `: the edge refused the ${signatureHeader} of the upgrade` : ': the edge refused the upgrade') : '';
        req.destroy();
        fail(new Error(`media stream upgrade ${requestUrl} answered ${res.statusCode}${refused}: ${bodyStart(body)}`));
      };
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 1000) body += c;
      });
      res.once('end', done);
      res.once('error', done);
      setTimeout(done, 2000).unref(); // a body that never ends does not hold the call
    });
  });
}
