/** The fake refuses what the real API refuses, so the adapter's tests through it can fail. */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FakeRealtimeServer } from './openai-realtime-server.ts';

let fake: FakeRealtimeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function client(f: FakeRealtimeServer, key = 'sk-x'): Promise<{ ws: WebSocket; got: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(f.url, { headers: { Authorization: `Bearer ${key}` } });
  const got: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => got.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, got };
}

describe('FakeRealtimeServer', () => {
  it('greets with session.created and answers protocol mistakes with error events', async () => {
    fake = await FakeRealtimeServer.start();
    const { ws, got } = await client(fake);
    const send = (e: object): void => ws.send(JSON.stringify(e));
    send({ type: 'session.update', session: { model: 'gpt-realtime' } }); // no session.type (a beta-style update)
    send({ type: 'response.cancel' }); // nothing to cancel
    send({ type: 'conversation.item.truncate', item_id: 'nope', content_index: 0, audio_end_ms: 0 });
    send({ type: 'input_audio_buffer.commit' }); // empty buffer
    send({ type: 'response.audio.delta' }); // not a client event
    await fake.waitFor(() => got.filter((e) => e.type === 'error').length === 5, '5 errors');
    expect(got[0]?.type).toBe('session.created');
    expect(got.filter((e) => e.type === 'error').map((e) => (e.error as { code: string }).code)).toEqual([
      'invalid_value',
      'response_cancel_not_active',
      'item_not_found',
      'input_audio_buffer_commit_empty',
      'unknown_event',
    ]);
    ws.close();
  });

  it('refuses truncation past the audio it sent, and a wrong key with HTTP 401', async () => {
    fake = await FakeRealtimeServer.start({ apiKey: 'sk-right' });
    const { ws, got } = await client(fake, 'sk-right');
    fake.responses.push({ audioMs: 300 });
    ws.send(JSON.stringify({ type: 'response.create' }));
    await fake.waitFor(() => got.some((e) => e.type === 'response.done'), 'response.done');
    const itemId = got.find((e) => e.type === 'response.output_audio.delta')?.item_id;
    ws.send(JSON.stringify({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 301 }));
    ws.send(JSON.stringify({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 300 }));
    await fake.waitFor(() => got.some((e) => e.type === 'conversation.item.truncated'), 'truncated');
    expect((got.find((e) => e.type === 'error')?.error as { message: string }).message).toBe('audio_end_ms 301 is out of range (audio is 300 ms).');
    ws.close();
    const refused = new WebSocket(fake.url, { headers: { Authorization: 'Bearer sk-wrong' } });
    const status = await new Promise<number | undefined>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      refused.on('error', () => resolve(undefined));
    });
    expect(status).toBe(401);
  });

  it('ends connections with or without a close frame, and refuses new ones with refuseStatus', async () => {
    fake = await FakeRealtimeServer.start();
    const closed = (ws: WebSocket): Promise<number> => new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    const a = await client(fake);
    const aClosed = closed(a.ws);
    fake.dropConnections();
    expect(await aClosed).toBe(1006);
    const b = await client(fake);
    const bClosed = closed(b.ws);
    fake.closeConnections(1000, 'session over');
    expect(await bClosed).toBe(1000);
    const statusOf = (): Promise<number | undefined> => {
      const ws = new WebSocket(fake!.url, { headers: { Authorization: 'Bearer sk-x' } });
      return new Promise((resolve) => {
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.on('open', () => resolve(101));
        ws.on('error', () => resolve(undefined));
      });
    };
    fake.refuseStatus = 503;
    expect(await statusOf()).toBe(503);
    fake.refuseStatus = undefined;
    expect(await statusOf()).toBe(101);
    expect(fake.connections).toBe(3);
    fake.closeConnections(1000);
  });
});
