import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { decodeOggOpus } from './decode.test-helper.ts';
import { localFolderSinkFactory } from './local-folder-sink.ts';
import { MemorySink } from './memory-sink.test-helper.ts';
import { legTrack, MAX_TRACKS, MIX_TRACK, SessionRecorder } from './session-recorder.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function memoryRecorder(): { rec: SessionRecorder; sinks: Map<string, MemorySink> } {
  const sinks = new Map<string, MemorySink>();
  const rec = new SessionRecorder({
    sinkFactory: (track) => {
      const s = new MemorySink(`memory://${track}`);
      sinks.set(track, s);
      return s;
    },
  });
  return { rec, sinks };
}

const tick = (value: number, rate = 16000) => audioFrame(new Int16Array(rate / 50).fill(value), rate);

describe('SessionRecorder', () => {
  it('records a track per leg plus the mix into real files, time-aligned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'session-rec-'));
    dirs.push(dir);
    const rec = await SessionRecorder.create({ sinkFactory: localFolderSinkFactory({ dir, sessionId: 'call-42' }) });
    for (const name of [legTrack('caller'), legTrack('agent'), MIX_TRACK]) rec.addTrack(name);
    // 50 ticks: the caller leg at 8 kHz (Twilio), the agent at 48 kHz (WebRTC), the mix at 16 kHz.
    for (let i = 0; i < 50; i++) {
      expect(rec.push('leg-caller', tick(i % 2 ? 500 : -500, 8000))).toBe(true);
      expect(rec.push('leg-agent', tick(0, 48000))).toBe(true);
      expect(rec.push('mix', tick(100))).toBe(true);
    }
    const results = await rec.close();
    expect(results.map((r) => [r.track, r.ok, r.durationMs])).toEqual([
      ['leg-caller', true, 1000],
      ['leg-agent', true, 1000],
      ['mix', true, 1000],
    ]);
    for (const [track, rate] of [['leg-caller', 8000], ['leg-agent', 48000], ['mix', 16000]] as const) {
      const path = join(dir, 'call-42', `${track}.ogg`);
      expect(existsSync(path)).toBe(true);
      expect(decodeOggOpus(readFileSync(path), rate).pcm.samples.length).toBe(rate);
    }
  });

  it('one failing track does not stop the others; its result carries the reason', async () => {
    const { rec, sinks } = memoryRecorder();
    rec.addTrack('leg-a');
    rec.addTrack('leg-b');
    rec.addTrack('mix');
    for (let i = 0; i < 10; i++) {
      if (i === 5) sinks.get('leg-b')!.abort(new Error('bucket unreachable'));
      for (const t of ['leg-a', 'leg-b', 'mix']) rec.push(t, tick(1000));
    }
    expect(rec.failure('leg-b')?.message).toBe('bucket unreachable');
    expect(rec.push('leg-b', tick(1))).toBe(false);
    const results = await rec.close();
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const failed = results[1]!;
    expect(failed.ok === false && failed.error.message).toBe('bucket unreachable');
    expect(decodeOggOpus(sinks.get('leg-a')!.bytes(), 16000).pcm.samples.length).toBe(3200);
  });

  it('closeTrack ends one leg early; pushes to it are refused afterwards', async () => {
    const { rec } = memoryRecorder();
    rec.addTrack('leg-a');
    rec.addTrack('mix');
    rec.push('leg-a', tick(5));
    rec.push('mix', tick(5));
    const a = await rec.closeTrack('leg-a');
    expect(a).toMatchObject({ track: 'leg-a', ok: true, durationMs: 20 });
    expect(rec.push('leg-a', tick(5))).toBe(false);
    expect(rec.push('nope', tick(5))).toBe(false);
    rec.push('mix', tick(5));
    const all = await rec.close();
    expect(all.map((r) => [r.track, r.durationMs])).toEqual([['leg-a', 20], ['mix', 40]]);
    expect(await rec.closeTrack('leg-a')).toBe(a);
    await expect(rec.closeTrack('nope')).rejects.toThrow(/no track/);
  });

  it('validates track names, refuses duplicates and more than 17 tracks', () => {
    const { rec } = memoryRecorder();
    for (const bad of ['', '../x', 'a b', 'a/b', 'x'.repeat(81), 'leg-é']) expect(() => rec.addTrack(bad)).toThrow(/track name/);
    rec.addTrack('x'.repeat(80));
    expect(() => rec.addTrack('x'.repeat(80))).toThrow(/already exists/);
    for (let i = 1; i < MAX_TRACKS; i++) rec.addTrack(legTrack(String(i)));
    expect(rec.tracks.length).toBe(17);
    expect(() => rec.addTrack('mix')).toThrow(/at most 17/);
  });

  it('abort leaves no track kept', async () => {
    const { rec, sinks } = memoryRecorder();
    rec.addTrack('mix');
    rec.push('mix', tick(5));
    rec.abort('session cancelled');
    expect(sinks.get('mix')!.failed?.message).toBe('session cancelled');
    expect((await rec.close())[0]!.ok).toBe(false);
  });
});
