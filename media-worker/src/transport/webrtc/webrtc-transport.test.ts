import { afterEach, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
// The same loopback client peer the e2e tests and the benchmark's load generator use.
import { connected, loopbackPeer, OPUS_PAYLOAD_TYPE } from '../../../../test/support/loopback-peer.ts';
import { until } from '../../../../test/support/until.ts';
import type { AudioFrame } from '../../audio/frame.ts';
import { OpusDecoderStream, OpusEncoderStream } from '../../audio/opus.ts';
import { audioFrame } from '../../audio/frame.ts';
import { WebRtcTransport } from './webrtc-transport.ts';

/** 20 ms Opus packets of a 440 Hz tone, encoded at 48 kHz as a browser sends them. */
function tonePackets(count: number): Uint8Array[] {
  const enc = new OpusEncoderStream({ sampleRate: 48000, channels: 1 });
  return Array.from({ length: count }, (_, k) => {
    const s = new Int16Array(960);
    for (let i = 0; i < 960; i++) s[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * 960 + i)) / 48000));
    return enc.encode(audioFrame(s, 48000, 1));
  });
}

/** Zero crossings per second of a mono frame sequence: 2 x the tone's frequency. */
function crossingsPerSecond(frames: AudioFrame[]): number {
  let crossings = 0;
  let samples = 0;
  let prev = 0;
  for (const f of frames) {
    for (const v of f.samples) {
      if ((prev < 0 && v >= 0) || (prev >= 0 && v < 0)) crossings++;
      prev = v;
    }
    samples += f.samples.length;
  }
  return crossings / (samples / frames[0]!.sampleRate);
}

describe('WebRtcTransport (real werift peers on loopback)', () => {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });

  /** A connected call: a client peer offering Opus, the transport answering; frames the transport decodes. */
  async function call(inputSampleRate: number | undefined, send = true, opus?: { bitrate: number }) {
    const client = loopbackPeer();
    open.push(client);
    const tx = client.addTransceiver('audio', { direction: 'sendrecv' });
    const received: { ts: number; payload: Buffer }[] = [];
    tx.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => received.push({ ts: rtp.header.timestamp, payload: Buffer.from(rtp.payload) })));
    client.createDataChannel('events');
    await client.setLocalDescription(await client.createOffer());
    const { transport, answer } = await WebRtcTransport.answer(client.localDescription!.sdp, {
      iceServers: [],
      icePolicy: 'all',
      portRange: undefined,
      publicIp: '',
      interfaceAddress: '127.0.0.1',
      ...(inputSampleRate === undefined ? {} : { inputSampleRate }),
      ...(opus ? { opus } : {}),
    });
    open.push({ close: () => transport.close('test_done') });
    const frames: AudioFrame[] = [];
    transport.onAudio((f) => frames.push(f));
    await client.setRemoteDescription({ type: 'answer', sdp: answer });
    await connected(client);
    if (!send) return { transport, received, frames };
    const packets = tonePackets(25);
    let seq = 1000;
    for (const [k, p] of packets.entries()) {
      const header = new RtpHeader({ payloadType: OPUS_PAYLOAD_TYPE, sequenceNumber: seq++, timestamp: k * 960, marker: k === 0 });
      await tx.sender.sendRtp(new RtpPacket(header, Buffer.from(p)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => frames.length >= 20, 5000);
    return { transport, received, frames };
  }

  it('decodes caller audio straight at the handler input rate when Opus decodes at it (no resampler)', async () => {
    const { frames } = await call(16000);
    for (const f of frames) {
      expect(f.sampleRate).toBe(16000);
      expect(f.channels).toBe(1);
      expect(f.samples.length).toBe(320); // 20 ms at 16 kHz
    }
    // The tone survives: 440 Hz is 880 zero crossings per second (codec warm-up aside).
    expect(crossingsPerSecond(frames.slice(5))).toBeGreaterThan(850);
    expect(crossingsPerSecond(frames.slice(5))).toBeLessThan(910);
  }, 20_000);

  it('decodes at 48 kHz when the handler rate is not one Opus decodes at, and by default', async () => {
    for (const rate of [44100, undefined]) {
      const { frames } = await call(rate);
      for (const f of frames) {
        expect(f.sampleRate).toBe(48000);
        expect(f.samples.length).toBe(960);
      }
    }
  }, 30_000);

  it('encodes replies at 16 and 24 kHz at their own rate; the client decodes the tone at 48 kHz on a 48 kHz RTP clock', async () => {
    const { transport, received } = await call(16000, false);
    for (const rate of [16000, 24000]) {
      received.length = 0;
      const n = rate / 50;
      for (let k = 0; k < 25; k++) {
        const s = new Int16Array(n);
        for (let i = 0; i < n; i++) s[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * n + i)) / rate));
        transport.output.push(audioFrame(s, rate, 1));
      }
      void transport.output.finish();
      await until(() => received.length >= 25, 5000);
      received.slice(1).forEach((p, i) => expect((p.ts - received[i]!.ts) >>> 0).toBe(960));
      const dec = new OpusDecoderStream(1, 48000);
      const out = received.map((p) => dec.decode(p.payload));
      for (const f of out) expect(f.samples.length).toBe(960);
      expect(crossingsPerSecond(out.slice(5, 24))).toBeGreaterThan(850);
      expect(crossingsPerSecond(out.slice(5, 24))).toBeLessThan(910);
      await until(() => transport.output.queuedMs() === 0, 2000);
      await new Promise((r) => setTimeout(r, 60)); // idle, so the next reply may switch rate
    }
  }, 20_000);

  it('codes replies at 32 kbit/s by default and at the bit rate it is given', async () => {
    /** Mean reply payload bit rate (bits/s) of 2 s of 48 kHz noise, which fills any budget. */
    const replyBitrate = async (opus?: { bitrate: number }): Promise<number> => {
      const { transport, received } = await call(undefined, false, opus);
      let seed = 1;
      for (let k = 0; k < 100; k++) {
        const s = new Int16Array(960);
        for (let i = 0; i < 960; i++) s[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) - 32768 >> 2;
        transport.output.push(audioFrame(s, 48000, 1));
      }
      void transport.output.finish();
      await until(() => received.length >= 100, 10_000);
      // The first packets carry the encoder's start-up; the rest are steady VBR around the target.
      const steady = received.slice(10, 100);
      return (steady.reduce((n, p) => n + p.payload.length, 0) * 8 * 50) / steady.length;
    };
    const byDefault = await replyBitrate();
    expect(byDefault).toBeGreaterThan(32_000 * 0.8);
    expect(byDefault).toBeLessThan(32_000 * 1.2);
    const given = await replyBitrate({ bitrate: 64_000 });
    expect(given).toBeGreaterThan(64_000 * 0.8);
    expect(given).toBeLessThan(64_000 * 1.2);
  }, 30_000);
});
