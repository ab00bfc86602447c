import { beforeAll, describe, expect, it } from 'vitest';
import { rms } from '../audio/pcm.ts';
import { audioFrame } from '../audio/frame.ts';
import { FLITE_VOICES, FLITE_VOICE_NAMES, checkFliteVoice } from './flite-voices.ts';
import { FliteWasiHost, Wasm, type WasmMemory, type WasmModule } from './flite-wasi.ts';
import { compileFlite, FliteRunner } from './flite-wasm.ts';

let module: WasmModule;
beforeAll(async () => {
  ({ module } = await compileFlite());
});

/** Runs the flite program with `args` in the in-memory WASI host. */
function runFlite(args: string[]): { code: number; host: FliteWasiHost } {
  const host = new FliteWasiHost();
  const instance = new Wasm.Instance(module, host.imports());
  host.bind(instance.exports.memory as WasmMemory);
  host.setArgs(['flite', ...args]);
  return { code: host.start(instance), host };
}

describe('flite.wasm in the in-memory WASI host', () => {
  it('lists the built-in voices; FLITE_VOICES is all of them but the talking clock', () => {
    const { code, host } = runFlite(['-lv']);
    expect(code).toBe(0);
    const listed = host.stdout.replace('Voices available:', '').trim().split(/\s+/).sort();
    expect(listed).toEqual([...FLITE_VOICE_NAMES, 'awb_time'].sort());
  });

  it('writes a WAV into memory and nothing anywhere else', () => {
    const { code, host } = runFlite(['-voice', 'kal16', '-t', 'Testing.', '-o', '/mem/x.wav']);
    expect(code).toBe(0);
    expect([...host.files.keys()]).toEqual(['x.wav']);
    expect(new TextDecoder().decode(host.readFile('x.wav')!.subarray(0, 4))).toBe('RIFF');
  });

  it('captures what Flite prints on stderr (and it exits 0 even then: no WAV is the failure sign)', () => {
    const { code, host } = runFlite(['-voice', 'slt', '-f', '/mem/missing.txt', '-o', '/mem/x.wav']);
    expect(code).toBe(0);
    expect(host.readFile('x.wav')).toBeUndefined();
    expect(host.stderr).toContain('failed to open file "/mem/missing.txt"');
  });

  it('has no file system outside /mem', () => {
    const { host } = runFlite(['-voice', 'kal', '-t', 'hi there', '-o', '/tmp/x.wav']);
    expect(host.files.size).toBe(0);
    expect(host.stderr).toContain('can\'t open file "/tmp/x.wav"');
  });

  it.each(FLITE_VOICE_NAMES)('voice %s speaks at its documented native rate', (voice) => {
    const runner = new FliteRunner(module);
    const s = runner.synthesize(voice, 'The quick brown fox jumps over the lazy dog.');
    expect(s.sampleRate).toBe(FLITE_VOICES[voice].sampleRate);
    const seconds = s.samples.length / s.sampleRate;
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(6);
    expect(rms(audioFrame(s.samples, s.sampleRate))).toBeGreaterThan(300);
  });

  it('prewarm() makes the next synthesis skip instantiation', () => {
    const runner = new FliteRunner(module);
    runner.prewarm();
    expect(runner.synthesize('kal', 'One.').instantiateMs).toBeLessThan(1);
    expect(runner.synthesize('kal', 'Two.').samples.length).toBeGreaterThan(0);
  });
});

describe('checkFliteVoice', () => {
  it('accepts the built-in voices and names them when refusing another', () => {
    expect(checkFliteVoice('slt')).toBe('slt');
    expect(() => checkFliteVoice('awb_time')).toThrow(/unknown Flite voice "awb_time": use one of kal, kal16, awb, rms, slt/);
    expect(() => checkFliteVoice('toString')).toThrow(RangeError);
    expect(() => checkFliteVoice(3)).toThrow(/unknown Flite voice 3/);
  });
});
