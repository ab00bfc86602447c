import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from 'werift';
import { loopbackPeer } from '../../../test/support/loopback-peer.ts';
import { WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';

/**
 * With TURN only over TCP (what strict-firewall deployments hand out) there is no UDP TURN server
 * to double as STUN: werift would fall back to Google's public STUN server. The STUN server each
 * of werift's gatherings would query while answering is recorded, and there must be none.
 */

const restore: (() => unknown)[] = [];
afterEach(async () => {
  for (const r of restore.splice(0).reverse()) await r();
});

/** The STUN server each gathering of werift's ICE agent would query (`getCandidatePromises` reads it). */
function recordStunServers(): unknown[] {
  const proto = Connection.prototype as unknown as { getCandidatePromises: (this: { stunServer: unknown }, ...a: unknown[]) => unknown };
  const original = proto.getCandidatePromises;
  const servers: unknown[] = [];
  proto.getCandidatePromises = function getCandidatePromises(...args: unknown[]) {
    servers.push(this.stunServer);
    return original.apply(this, args);
  };
  restore.push(() => (proto.getCandidatePromises = original));
  return servers;
}

describe('no default STUN server', () => {
  it('answers with TCP-only TURN servers without sending anything to a public STUN server', async () => {
    const client = loopbackPeer();
    restore.push(() => client.close());
    client.addTransceiver('audio', { direction: 'sendrecv' });
    await client.setLocalDescription(await client.createOffer());
    const stunServers = recordStunServers();
    const started = performance.now();
    const { transport } = await WebRtcTransport.answer(client.localDescription!.sdp, {
      // A TURN server over TCP on a closed loopback port: nothing answers, nothing is relayed.
      iceServers: [{ urls: ['turn:127.0.0.1:9?transport=tcp'], username: 'u', credential: 'p' }],
      icePolicy: 'all',
      portRange: undefined,
      publicIp: '',
      interfaceAddress: '127.0.0.1',
      allowPeerAddresses: ['loopback'],
    });
    const answerMs = performance.now() - started;
    restore.push(() => transport.close('test_done'));
    // werift gathered (once per ICE transport) with no STUN server to query.
    expect(stunServers.length).toBeGreaterThan(0);
    expect(stunServers.filter((s) => s !== undefined)).toEqual([]);
    // Gathering did not wait for a STUN server that never answers (the 5 s gathering limit).
    expect(answerMs).toBeLessThan(4000);
  });
});
