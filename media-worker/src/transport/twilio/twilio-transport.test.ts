import { TwilioInbound, TwilioOutbound, type ChannelMessage } from '@switchboard/protocol';
import alawmulaw from 'alawmulaw';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { audioFrame, type AudioFrame } from '../../audio/frame.ts';
import { initResampler } from '../../audio/resampler.ts';
import { TwilioTransport, type TwilioTransportOptions } from './twilio-transport.ts';

// Fake timers with the transport's clock on Date.now (faked too): ticks fire exactly on time, so
// pacing assertions are exact.

const SID = 'MZ00000000000000000000000000000001';

interface Sent {
  msg: TwilioOutbound;
  at: number;
}

let transports: TwilioTransport[] = [];

function make(extra: Partial<TwilioTransportOptions> = {}) {
  const sent: Sent[] = [];
  const logs: string[] = [];
  const t = new TwilioTransport({
    // Every message must be valid for Twilio.
    send: (ms) => {
      for (const m of ms) sent.push({ msg: TwilioOutbound.parse(m), at: Date.now() });
    },
    now: () => Date.now(),
    log: (m) => logs.push(m),
    noMediaMs: 0, // the watchdog's own tests turn it on
    ...extra,
  });
  transports.push(t);
  return { t, sent, logs };
}

const start = (t: TwilioTransport, streamSid = SID, callSid = 'CA1') =>
  t.receive(
    TwilioInbound.parse({
      event: 'start',
      sequenceNumber: '1',
      streamSid,
      start: {
        accountSid: 'AC1',
        streamSid,
        callSid,
        tracks: ['inbound'],
        customParameters: { session: 's-1' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    }),
  );

const echo = (t: TwilioTransport, name: string) => t.receive({ event: 'mark', sequenceNumber: '9', streamSid: SID, mark: { name } });

const medias = (sent: Sent[]) => sent.filter((s) => s.msg.event === 'media');
const markNames = (sent: Sent[]) => sent.flatMap((s) => (s.msg.event === 'mark' ? [s.msg.mark.name] : []));
const payloadBytes = (s: Sent) => (s.msg.event === 'media' ? Buffer.from(s.msg.media.payload, 'base64') : Buffer.alloc(0));

/** `ms` of audio whose every sample holds `value` (so chunks can be told apart after mu-law). */
function tone(ms: number, value = 1000, rate = 8000, channels = 1): AudioFrame {
  return audioFrame(new Int16Array(((ms * rate) / 1000) * channels).fill(value), rate, channels);
}

function sine(ms: number, rate: number, channels: number): AudioFrame {
  const n = (ms * rate) / 1000;
  const s = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) s[i * channels + c] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return audioFrame(s, rate, channels);
}

beforeAll(async () => {
  await initResampler();
});

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  for (const t of transports) t.close('test_end');
  transports = [];
  vi.useRealTimers();
});

describe('TwilioTransport output', () => {
  it('sends nothing before start; a greeting queued before start plays after it', () => {
    const { t, sent } = make();
    const starts: string[] = [];
    t.onStart((info) => starts.push(info.callSid));
    t.play(tone(1000));
    vi.advanceTimersByTime(500);
    expect(sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0); // no clock before start
    expect(t.queuedMs()).toBe(1000);
    expect(t.streamSid).toBeUndefined();

    start(t);
    expect(starts).toEqual(['CA1']);
    expect(t.streamSid).toBe(SID);
    t.onStart((info) => starts.push(`late ${info.callSid}`)); // already started: called at once
    expect(starts).toEqual(['CA1', 'late CA1']);

    vi.advanceTimersByTime(0);
    expect(medias(sent).length).toBe(2); // first tick, at once
    vi.advanceTimersByTime(2000);
    expect(medias(sent).length).toBe(50);
    expect(vi.getTimerCount()).toBe(0); // nothing queued: the clock sleeps
  });

  it('sends 20 ms chunks of 160 mu-law bytes, each followed by a unique mark', () => {
    const { t, sent } = make();
    start(t);
    t.play(tone(200));
    vi.advanceTimersByTime(1000);
    expect(sent.length).toBe(20);
    for (let i = 0; i < sent.length; i += 2) {
      expect(sent[i]!.msg.event).toBe('media');
      expect(payloadBytes(sent[i]!)).toHaveLength(160);
      expect(sent[i + 1]!.msg).toMatchObject({ event: 'mark', streamSid: SID });
    }
    const names = markNames(sent);
    expect(new Set(names).size).toBe(10);
    expect(t.stats()).toMatchObject({ chunksSent: 10, marksSent: 10 });
  });

  it('paces at most 2 chunks per tick and keeps the lead within leadMs + one chunk', () => {
    const { t, sent } = make();
    start(t);
    t.play(tone(5000));
    vi.advanceTimersByTime(2000);
    const perTick = new Map<number, number>();
    let playClock = 0;
    for (const s of medias(sent)) {
      perTick.set(s.at, (perTick.get(s.at) ?? 0) + 1);
      playClock = Math.max(playClock, s.at) + 20;
      expect(playClock - s.at).toBeLessThanOrEqual(200 + 20);
    }
    expect(Math.max(...perTick.values())).toBe(2);
    // Real time plus the lead, not more: ticks at 0..2000 ms, and Twilio holds 200 ms after the last.
    expect(medias(sent).length).toBe((2000 + 200) / 20);
    expect(t.stats().latenessMs.count).toBeGreaterThan(0);
  });

  it('resamples 48 kHz stereo to 8 kHz mono, preserving duration', () => {
    const { t, sent } = make();
    start(t);
    for (let i = 0; i < 10; i++) t.play(sine(100, 48000, 2)); // 1 s in 100 ms pieces
    t.finishPlayback();
    vi.advanceTimersByTime(3000);
    const chunks = medias(sent);
    expect(Math.abs(chunks.length * 20 - 1000)).toBeLessThanOrEqual(20);
    const decoded = alawmulaw.mulaw.decode(payloadBytes(chunks[10]!));
    expect(decoded).toHaveLength(160);
    expect(Math.max(...decoded)).toBeGreaterThan(6000); // the tone survived
  });

  it('pads the last partial chunk on finishPlayback', () => {
    const { t, sent } = make();
    start(t);
    t.play(tone(30));
    vi.advanceTimersByTime(100);
    expect(medias(sent).length).toBe(1);
    expect(t.queuedMs()).toBe(20 + 10); // 10 ms waits for more audio; 20 ms unconfirmed at Twilio
    t.finishPlayback();
    vi.advanceTimersByTime(100);
    expect(medias(sent).length).toBe(2);
    const last = alawmulaw.mulaw.decode(payloadBytes(medias(sent)[1]!));
    expect(last[0]).not.toBe(0);
    expect(last[159]).toBe(0);
  });

  it('drops the oldest audio beyond maxQueueMs', () => {
    const { t, sent } = make({ maxQueueMs: 1000 });
    t.play(tone(1000, 1000));
    t.play(tone(1000, -8000));
    expect(t.stats().droppedMs).toBe(1000);
    start(t);
    vi.advanceTimersByTime(0);
    expect(alawmulaw.mulaw.decode(payloadBytes(medias(sent)[0]!))[0]).toBeLessThan(-7000);
  });
});

describe('TwilioTransport playback accounting', () => {
  it('reports heard ms from echoed marks; clear drops the queue and ignores late echoes', () => {
    const { t, sent } = make();
    start(t);
    t.play(tone(1000));
    vi.advanceTimersByTime(300);
    const before = markNames(sent);
    for (const name of before.slice(0, 5)) echo(t, name);
    echo(t, 'someone-else-1'); // another worker's mark: ignored
    echo(t, '3');

    expect(t.clearPlayback()).toBe(5 * 20);
    expect(sent.filter((s) => s.msg.event === 'clear')).toEqual([{ msg: { event: 'clear', streamSid: SID }, at: 300 }]);
    expect(t.queuedMs()).toBe(0);
    const count = sent.length;
    vi.advanceTimersByTime(1000);
    expect(sent.length).toBe(count); // queue emptied: nothing more goes out
    expect(vi.getTimerCount()).toBe(0);

    // Twilio echoes every outstanding mark on clear: they were not played.
    for (const name of before.slice(5)) echo(t, name);
    expect(t.clearPlayback()).toBe(100);
    expect(sent.filter((s) => s.msg.event === 'clear')).toHaveLength(1); // nothing sent since: no second clear
    expect(t.stats()).toMatchObject({ marksAcked: 5, heardMs: 100, clears: 1 });

    // The next reply counts from zero.
    t.play(tone(500));
    vi.advanceTimersByTime(100);
    const next = markNames(sent).slice(before.length);
    expect(next.length).toBeGreaterThan(3);
    echo(t, next[2]!); // echoes arrive in order; an earlier one missing still counts as played
    expect(t.clearPlayback()).toBe(3 * 20);
    expect(t.stats()).toMatchObject({ heardMs: 160, clears: 2 });
  });

  it('keeps a reply open until its audio is confirmed played', () => {
    const { t, sent } = make();
    start(t);
    t.play(tone(100));
    t.finishPlayback();
    vi.advanceTimersByTime(500);
    expect(t.queuedMs()).toBe(100); // sent, played by the clock, not yet confirmed (within slack)
    const names = markNames(sent);
    echo(t, names[names.length - 1]!);
    expect(t.queuedMs()).toBe(0);
    // Next play starts a new reply: heard restarts from zero.
    t.play(tone(100));
    expect(t.clearPlayback()).toBe(0);
  });

  it('falls back to the play clock when marks never come', () => {
    const { t } = make();
    start(t);
    t.play(tone(3000));
    t.finishPlayback();
    let waited = 0;
    // Like waitForPlayout: poll until nothing is queued; must end shortly after the audio's length.
    while (t.queuedMs() > 0 && waited < 10_000) {
      vi.advanceTimersByTime(100);
      waited += 100;
    }
    expect(waited).toBeLessThanOrEqual(3000);
    expect(t.queuedMs()).toBe(0);
  });
});

describe('TwilioTransport inbound and lifecycle', () => {
  it('decodes media to 8 kHz frames and DTMF to events; drops a malformed payload', () => {
    const { t, logs } = make();
    const frames: AudioFrame[] = [];
    const events: ChannelMessage[] = [];
    t.onAudio((f) => frames.push(f));
    const off = t.onEvent((e) => events.push(e));
    start(t);
    const media = (payload: string) => ({ event: 'media' as const, sequenceNumber: '2', streamSid: SID, media: { track: 'inbound', chunk: '1', timestamp: '0', payload } });
    t.receive(media(Buffer.alloc(160, 0xff).toString('base64')));
    expect(() => t.receive(media('not base64!'))).not.toThrow();
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ sampleRate: 8000, channels: 1 });
    expect(frames[0]!.samples).toHaveLength(160);
    expect(logs.some((l) => l.includes('not valid base64'))).toBe(true);

    t.receive({ event: 'dtmf', sequenceNumber: '3', streamSid: SID, dtmf: { track: 'inbound_track', digit: '5' } });
    expect(events).toEqual([{ type: 'dtmf', digit: '5' }]);
    off();
    t.receive({ event: 'dtmf', sequenceNumber: '4', streamSid: SID, dtmf: { track: 'inbound_track', digit: '6' } });
    expect(events).toHaveLength(1);
    t.sendEvent({ type: 'state', state: 'live' }); // no data channel: dropped, no error
  });

  it('closes with phone_hangup on stop, once', () => {
    const { t } = make();
    const reasons: string[] = [];
    t.onClose((r) => reasons.push(r));
    start(t);
    t.receive({ event: 'stop', sequenceNumber: '5', streamSid: SID, stop: { accountSid: 'AC1', callSid: 'CA1' } });
    t.close('again');
    t.onClose((r) => reasons.push(`late ${r}`));
    expect(reasons).toEqual(['phone_hangup', 'late phone_hangup']);
  });

  it('close is idempotent and stops sending', () => {
    const { t, sent } = make();
    const reasons: string[] = [];
    t.onClose((r) => reasons.push(r));
    start(t);
    t.play(tone(1000));
    vi.advanceTimersByTime(100);
    const count = sent.length;
    expect(count).toBeGreaterThan(0);
    t.close('done');
    t.close('done');
    t.play(tone(100));
    t.finishPlayback();
    expect(t.clearPlayback()).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(sent).toHaveLength(count);
    expect(reasons).toEqual(['done']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('TwilioTransport on the real clock', () => {
  it('paces with real timers and performance.now', async () => {
    vi.useRealTimers();
    const sent: TwilioOutbound[] = [];
    const t = new TwilioTransport({ send: (ms) => sent.push(...ms), leadMs: 40 });
    transports.push(t);
    start(t);
    const t0 = performance.now();
    t.play(tone(200));
    t.finishPlayback();
    while (sent.filter((m) => m.event === 'media').length < 10 && performance.now() - t0 < 2000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // 200 ms of audio with a 40 ms lead: the last chunk goes out about 160 ms in, not at once.
    const elapsed = performance.now() - t0;
    expect(sent.filter((m) => m.event === 'media')).toHaveLength(10);
    expect(elapsed).toBeGreaterThan(120);
    expect(t.stats().latenessMs.count).toBeGreaterThan(5);
  });
});

describe('TwilioTransport across a replaced stream', () => {
  const SID2 = 'MZ00000000000000000000000000000002';
  const media = (t: TwilioTransport, streamSid = SID) =>
    t.receive({ event: 'media', sequenceNumber: '5', streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '/////w==' } });

  it('pauses on streamLost and goes on in the new stream of the same call: no second onStart, old marks forgotten', () => {
    const { t, sent } = make();
    const starts: string[] = [];
    t.onStart((info) => starts.push(info.streamSid));
    start(t);
    t.play(tone(2000));
    vi.advanceTimersByTime(500);
    const before = medias(sent).length;
    expect(before).toBeGreaterThan(20);
    expect(t.queuedMs()).toBeGreaterThan(1000);
    t.streamLost();
    vi.advanceTimersByTime(1000);
    expect(medias(sent).length).toBe(before); // nothing sent while no stream is there
    const queued = t.queuedMs();
    start(t, SID2);
    expect(starts).toEqual([SID]);
    expect(t.streamSid).toBe(SID2);
    expect(t.streams).toBe(2);
    vi.advanceTimersByTime(3000);
    const after = sent.slice(before * 2);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.msg.streamSid === SID2)).toBe(true);
    // The rest of the reply went out on the new stream, none of it lost or repeated.
    expect((medias(sent).length - before) * 20).toBe(Math.ceil(queued / 20) * 20);
    // An old stream's mark arriving late counts for nothing; the new one's do.
    const heard = t.stats().heardMs;
    echo(t, markNames(sent)[0]!);
    expect(t.stats().heardMs).toBe(heard);
    echo(t, markNames(sent).at(-1)!);
    expect(t.stats().heardMs).toBe(heard + (medias(sent).length - before) * 20);
  });

  it('ignores a start for another call and the current start replayed', () => {
    const { t, logs } = make();
    start(t);
    start(t);
    start(t, SID2, 'CA2');
    expect(t.streamSid).toBe(SID);
    expect(t.streams).toBe(1);
    expect(logs.some((l) => l.includes('another call'))).toBe(true);
  });

  it('closes as no_media when no media arrives for noMediaMs after start; media keeps the call', () => {
    const { t } = make({ noMediaMs: 10_000 });
    const closed: string[] = [];
    t.onClose((r) => closed.push(r));
    vi.advanceTimersByTime(30_000); // no start yet: not its business (the session's start timeout is)
    expect(closed).toEqual([]);
    start(t);
    for (let i = 0; i < 60; i++) {
      vi.advanceTimersByTime(200);
      media(t);
    }
    t.streamLost();
    vi.advanceTimersByTime(9_900);
    expect(closed).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(closed).toEqual(['no_media']);
  });
});
