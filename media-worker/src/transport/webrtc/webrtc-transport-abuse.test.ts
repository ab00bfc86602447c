import { afterEach, describe, expect, it } from 'vitest';
import type { RTCDataChannel } from 'werift';
import { connected, loopbackPeer } from '../../../../test/support/loopback-peer.ts';
import { until } from '../../../../test/support/until.ts';
import type { ChannelMessage } from '@switchboard/protocol';
import { WebRtcTransport } from './webrtc-transport.ts';

describe('WebRtcTransport data channel: limits and liveness (real werift peers on loopback)', () => {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });

  /** A connected call with an open `events` channel; what the client receives on it and the transport's events. */
  async function call() {
    const client = loopbackPeer();
    open.push(client);
    client.addTransceiver('audio', { direction: 'sendrecv' });
    const ch: RTCDataChannel = client.createDataChannel('events');
    const toClient: Record<string, unknown>[] = [];
    ch.onMessage.subscribe((d) => toClient.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await client.setLocalDescription(await client.createOffer());
    const { transport, answer } = await WebRtcTransport.answer(client.localDescription!.sdp, {
      iceServers: [],
      icePolicy: 'all',
      portRange: undefined,
      publicIp: '',
      interfaceAddress: '127.0.0.1',
    });
    open.push({ close: () => transport.close('test_done') });
    const events: ChannelMessage[] = [];
    transport.onEvent((e) => events.push(e));
    let closedWith = '';
    transport.onClose((r) => (closedWith = r));
    await client.setRemoteDescription({ type: 'answer', sdp: answer });
    await connected(client);
    await until(() => ch.readyState === 'open', 5000);
    return { ch, toClient, events, transport, closed: () => closedWith };
  }

  it('drops a message over 16 KiB and tells the client once, keeping the session', async () => {
    const c = await call();
    c.ch.send(JSON.stringify({ type: 'big', pad: 'x'.repeat(17_000) }));
    c.ch.send(JSON.stringify({ type: 'big', pad: 'x'.repeat(17_000) }));
    c.ch.send(JSON.stringify({ type: 'input', text: 'hi' }));
    await until(() => c.events.length === 1, 5000);
    expect(c.events).toEqual([{ type: 'input', text: 'hi' }]);
    await until(() => c.toClient.length >= 1, 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.toClient).toEqual([{ type: 'error', code: 'abuse', message: expect.stringContaining('16384') }]);
    expect(c.closed()).toBe('');
  });

  it('keeps at most 64 distinct types, and ends the session with reason abuse when a flood goes on', async () => {
    const c = await call();
    for (let i = 0; i < 2000; i++) c.ch.send(JSON.stringify({ type: `t${i}` }));
    await until(() => c.closed() !== '', 10_000);
    expect(c.closed()).toBe('abuse');
    expect(new Set(c.events.map((e) => e.type)).size).toBeLessThanOrEqual(64);
    expect(c.toClient.filter((e) => e['type'] === 'error')).toHaveLength(1);
  });

  it('answers a ping with a pong carrying the same t, and does not hand it to the handler', async () => {
    const c = await call();
    c.ch.send(JSON.stringify({ type: 'ping', t: 1234.5 }));
    c.ch.send(JSON.stringify({ type: 'ping' }));
    c.ch.send(JSON.stringify({ type: 'input', text: 'after' }));
    await until(() => c.toClient.length === 2 && c.events.length === 1, 5000);
    expect(c.toClient).toEqual([{ type: 'pong', t: 1234.5 }, { type: 'pong' }]);
    expect(c.events).toEqual([{ type: 'input', text: 'after' }]);
  });
});
