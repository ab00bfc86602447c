import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { sendWebhook } from '../scripts/phone/signed-webhook.ts';

/** The caller simulator's webhooks retry a failed connection once, as Twilio does by default. */
describe('sendWebhook', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** A server that resets the first `drops` requests' connections, then answers 200. */
  async function flaky(drops: number): Promise<{ url: string; requests: () => number }> {
    let n = 0;
    server = createServer((req, res) => {
      n++;
      if (n <= drops) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<Response/>');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}/twilio/voice`, requests: () => n };
  }

  it('sends once more after a connection reset, and gets the answer', async () => {
    const s = await flaky(1);
    const r = await sendWebhook({ signedUrl: s.url, requestUrl: s.url, params: { CallSid: 'CA1' }, authToken: 't' });
    expect(r.status).toBe(200);
    expect(s.requests()).toBe(2);
  });

  it('gives up after the one retry, naming the URL', async () => {
    const s = await flaky(5);
    await expect(sendWebhook({ signedUrl: s.url, requestUrl: s.url, params: { CallSid: 'CA1' }, authToken: 't' })).rejects.toThrow(/POST http:\/\/127\.0\.0\.1:\d+\/twilio\/voice failed/);
    expect(s.requests()).toBe(2);
  });
});
