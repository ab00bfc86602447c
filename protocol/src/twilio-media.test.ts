import { describe, expect, it } from 'vitest';
import { parseControlToWorker } from './control.ts';
import { TWILIO_MEDIA_FORMAT, mediaFormatProblem } from './twilio-media.ts';

describe('Twilio media format', () => {
  it('accepts only 8 kHz mono mu-law and says what else it got', () => {
    expect(mediaFormatProblem(TWILIO_MEDIA_FORMAT)).toBeNull();
    expect(mediaFormatProblem({ encoding: 'audio/x-mulaw', sampleRate: 16000, channels: 1 })).toBe(
      'unsupported Twilio mediaFormat audio/x-mulaw 16000 Hz 1 ch (expected audio/x-mulaw 8000 Hz 1 ch)',
    );
    expect(mediaFormatProblem({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 2 })).toMatch(/8000 Hz 2 ch/);
    // Caller-supplied text is bounded and printable (it travels in a header and a status detail).
    const odd = mediaFormatProblem({ encoding: `x\n${'y'.repeat(100)}`, sampleRate: 8000, channels: 1 })!;
    expect(odd).toMatch(/^unsupported Twilio mediaFormat x\?y{38} 8000 Hz/);
  });
});

describe("media.lost", () => {
  it('is a control message to the worker carrying the close code', () => {
    expect(parseControlToWorker('{"type":"media.lost","code":1006}')).toEqual({ ok: true, value: { type: "media.lost", code: 1006 } });
    expect(parseControlToWorker('{"type":"media.lost"}').ok).toBe(false);
  });
});
