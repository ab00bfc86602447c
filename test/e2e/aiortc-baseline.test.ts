import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import { startAiortcEcho, type AiortcEcho } from '../../bench/baseline/aiortc-echo.ts';
import { OpusDecoderStream, OpusEncoderStream } from '../../media-worker/src/audio/opus.ts';
import { loopbackPeer, OPUS_PAYLOAD_TYPE } from '../support/loopback-peer.ts';

/**
 * The benchmark's baseline, bench/baseline/aiortc_echo.py (aiortc 1.4.0 from Debian): one werift
 * client peer on loopback sends a 440 Hz tone as 20 ms Opus packets and gets it back, decoded and
 * re-encoded by aiortc. Needs no part of the local stack (this file is in the e2e project only
 * because it runs real WebRTC on loopback, one file at a time).
 */

const TONE_HZ = 440;
const TONE_MS = 2000;
const RATE = 48000;
const FRAME = 960; // 20 ms at 48 kHz

interface Arrival {
  at: number;
  seq: number;
  timestamp: number;
  payload: Buffer;
  samples: Int16Array;
}

/** A werift peer with the settings of test/support/rtc-client.ts, talking to the echo's /offer. */
class EchoPeer {
  readonly arrivals: Arrival[] = [];
  sessionUrl = '';
  private readonly encoder = new OpusEncoderStream({ sampleRate: RATE, channels: 1, fec: true });
  private readonly decoder = new OpusDecoderStream(1);
  private seq = 1;
  private ts = 0;
  readonly pc: RTCPeerConnection;
  private readonly transceiver: RTCRtpTransceiver;

  constructor() {
    this.pc = loopbackPeer();
    this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.pc.createDataChannel('events');
    this.transceiver.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) => {
        this.arrivals.push({
          at: performance.now(),
          seq: rtp.header.sequenceNumber,
          timestamp: rtp.header.timestamp,
          payload: rtp.payload,
          samples: this.decoder.decode(rtp.payload).samples,
        });
      }),
    );
  }

  /** The complete (non-trickle) offer. */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await new Promise<void>((r) => {
      if (this.pc.iceGatheringState === 'complete') r();
      else this.pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r());
    });
    return this.pc.localDescription!.sdp;
  }

  /** Offers, applies the answer and waits until connected. */
  async connect(baseUrl: string): Promise<void> {
    const res = await postOffer(baseUrl, await this.offer());
    if (res.status !== 201) throw new Error(`POST /offer answered ${res.status}: ${await res.text()}`);
    expect(res.headers.get('content-type')).toBe('application/sdp');
    const location = res.headers.get('location');
    expect(location).toMatch(/^\/sessions\/[0-9a-f]+$/);
    this.sessionUrl = `${baseUrl}${location}`;
    const connected = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`WebRTC did not connect within 10 s (${this.pc.connectionState})`)), 10_000);
      this.pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await connected;
  }

  /** Sends `samples` (48 kHz mono, a whole number of 20 ms frames) as Opus, paced in real time. */
  async play(samples: Int16Array): Promise<void> {
    const start = performance.now();
    for (let i = 0; i * FRAME < samples.length; i++) {
      const payload = this.encoder.encode({ samples: samples.subarray(i * FRAME, (i + 1) * FRAME), sampleRate: RATE, channels: 1 });
      const header = new RtpHeader({ payloadType: OPUS_PAYLOAD_TYPE, sequenceNumber: this.seq++ & 0xffff, timestamp: this.ts >>> 0, marker: i === 0 });
      this.ts += FRAME;
      void this.transceiver.sender.sendRtp(new RtpPacket(header, Buffer.from(payload)));
      const wait = start + (i + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async hangup(): Promise<number> {
    const res = this.sessionUrl ? await fetch(this.sessionUrl, { method: 'DELETE' }) : null;
    await this.pc.close();
    return res?.status ?? 0;
  }
}

function postOffer(baseUrl: string, sdp: string, contentType = 'application/sdp'): Promise<Response> {
  return fetch(`${baseUrl}/offer`, { method: 'POST', headers: { 'Content-Type': contentType }, body: sdp });
}

function tone(hz: number, ms: number, amplitude = 8000): Int16Array {
  const out = new Int16Array((RATE * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
  return out;
}

function rms(x: Int16Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return x.length ? Math.sqrt(sum / x.length) : 0;
}

/** The frequency (in `stepHz` steps between `fromHz` and `toHz`) with the most energy (Goertzel). */
function dominantHz(x: Int16Array, fromHz: number, toHz: number, stepHz: number): number {
  let best = { hz: 0, power: -1 };
  for (let hz = fromHz; hz <= toHz; hz += stepHz) {
    const coeff = 2 * Math.cos((2 * Math.PI * hz) / RATE);
    let s1 = 0;
    let s2 = 0;
    for (const v of x) {
      const s = v + coeff * s1 - s2;
      s2 = s1;
      s1 = s;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if (power > best.power) best = { hz, power };
  }
  return best.hz;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** User + system CPU time of a process in ms (/proc/PID/stat, USER_HZ = 100). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

let echo: AiortcEcho;

beforeAll(async () => {
  echo = await startAiortcEcho({ quiet: true });
});

afterAll(async () => {
  await echo?.stop();
});

describe('the aiortc echo baseline (bench/baseline/aiortc_echo.py)', () => {
  it('answers /offer and echoes a 440 Hz tone back as ~50 packets/s; DELETE closes the session', async () => {
    expect((await fetch(`${echo.url}/healthz`)).status).toBe(200);
    const peer = new EchoPeer();
    await peer.connect(echo.url);

    const cpu0 = cpuMs(echo.pid);
    const sentAt = performance.now();
    await peer.play(tone(TONE_HZ, TONE_MS));
    const playedMs = performance.now() - sentAt;
    const cpu = cpuMs(echo.pid) - cpu0;
    await new Promise((r) => setTimeout(r, 400)); // the tail of the echo (aiortc's jitter buffer)

    const got = peer.arrivals;
    const expected = TONE_MS / 20;
    expect(got.length).toBeGreaterThanOrEqual(expected * 0.9);
    expect(got.length).toBeLessThanOrEqual(expected + 2);
    // Arrival rate over the steady part: 20 ms packets, paced by what we send.
    const steady = got.slice(5);
    const rate = ((steady.length - 1) * 1000) / (steady.at(-1)!.at - steady[0]!.at);
    expect(rate).toBeGreaterThan(45);
    expect(rate).toBeLessThan(55);
    // 20 ms per packet on the wire too (RTP timestamp step 960 at 48 kHz).
    const steps = new Set(got.slice(1).map((a, i) => (a.timestamp - got[i]!.timestamp) >>> 0));
    expect([...steps]).toEqual([FRAME]);

    // The echo is the tone: loud, and 440 Hz (skip the first 100 ms of codec warm-up).
    const audio = concat(got.map((a) => a.samples)).subarray(RATE / 10);
    const level = rms(audio);
    expect(level).toBeGreaterThan(2000); // the tone's RMS is ~5660
    const hz = dominantHz(audio.subarray(0, RATE), 200, 2000, 2);
    expect(Math.abs(hz - TONE_HZ)).toBeLessThanOrEqual(20);

    const firstEchoMs = got[0]!.at - sentAt;
    const bytes = got.map((a) => a.payload.length);
    const kbps = (bytes.reduce((a, b) => a + b, 0) * 8) / (got.length * 20);
    const toc = got[10]!.payload[0]!;
    console.log(
      `[aiortc-echo] ${got.length} packets, ${rate.toFixed(1)}/s, first echo after ${firstEchoMs.toFixed(0)} ms, ` +
        `Opus ${kbps.toFixed(0)} kbit/s (TOC config ${toc >> 3}, ${toc & 4 ? 'stereo' : 'mono'}), rms ${level.toFixed(0)}, ${hz} Hz, ` +
        `server CPU ${cpu} ms over ${playedMs.toFixed(0)} ms (${((cpu / playedMs) * 100).toFixed(1)}% of a core, one session)`,
    );

    expect(await (await fetch(`${echo.url}/healthz`)).json()).toMatchObject({ sessions: 1 });
    const session = await fetch(peer.sessionUrl);
    expect(await session.json()).toMatchObject({ connectionState: 'connected' });
    expect(await peer.hangup()).toBe(204);
    expect((await fetch(peer.sessionUrl)).status).toBe(404);
    expect((await fetch(peer.sessionUrl, { method: 'DELETE' })).status).toBe(404);
    expect(await (await fetch(`${echo.url}/healthz`)).json()).toMatchObject({ sessions: 0 });
  });

  it('answers a bad offer with 400 and a clear message, and keeps serving', async () => {
    const bad = async (body: string, contentType?: string) => {
      const res = await postOffer(echo.url, body, contentType);
      expect(res.status).toBe(400);
      return res.text();
    };
    expect(await bad('hello')).toMatch(/not an SDP offer/);
    expect(await bad('')).toMatch(/empty offer/);
    expect(await bad('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n')).toMatch(/no audio m-line/);
    // Parses, but aiortc cannot use it: no ICE credentials, no DTLS fingerprint.
    expect(await bad('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n')).toMatch(
      /cannot answer the offer: .*ICE/,
    );
    const peer = new EchoPeer();
    const offer = await peer.offer();
    expect(await bad(offer, 'application/json')).toMatch(/expected Content-Type: application\/sdp/);
    // An audio m-line that sends nothing to the echo has nothing to echo.
    expect(await bad(offer.replace('a=sendrecv', 'a=recvonly'))).toMatch(/does not send audio/);
    expect(await (await fetch(`${echo.url}/healthz`)).json()).toMatchObject({ status: 'ok', sessions: 0 });

    // Still serving: the same offer, well-formed, is answered.
    const res = await postOffer(echo.url, offer);
    expect(res.status).toBe(201);
    expect(await res.text()).toMatch(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/m);
    peer.sessionUrl = `${echo.url}${res.headers.get('location')}`;
    expect(await peer.hangup()).toBe(204);
  });

  it('stop() closes open sessions and exits 0 on SIGTERM', async () => {
    const peer = new EchoPeer();
    await peer.connect(echo.url);
    const t0 = performance.now();
    await echo.stop();
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(echo.exitStatus()).toEqual({ code: 0, signal: null });
    await peer.pc.close();
  });
});
