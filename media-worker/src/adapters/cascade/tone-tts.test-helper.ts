/**
 * An in-memory TtsService double for cascade tests (TTS is not what they test): each pushed word
 * becomes `wordMs` of a 300 Hz tone at `sampleRate`, one chunk per word, with its word timing
 * when `withWords` (like ElevenLabs/Cartesia alignments), at once (no latency). Records what it
 * was asked to say.
 */
import type { TtsChunk, TtsService, TtsStream } from '../types.ts';

export class ToneTts implements TtsService {
  readonly name = 'tone-tts';
  readonly sampleRate: number;
  readonly pushed: string[] = [];
  opened = 0;
  readonly #wordMs: number;
  readonly #withWords: boolean;

  constructor({ sampleRate = 24_000, wordMs = 100, withWords = true }: { sampleRate?: number; wordMs?: number; withWords?: boolean } = {}) {
    this.sampleRate = sampleRate;
    this.#wordMs = wordMs;
    this.#withWords = withWords;
  }

  open(signal: AbortSignal): TtsStream {
    this.opened++;
    const queue: TtsChunk[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    let t = 0;
    const n = Math.round((this.sampleRate * this.#wordMs) / 1000);
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };
    signal.addEventListener('abort', notify, { once: true });
    return {
      push: (text) => {
        this.pushed.push(text);
        for (const word of text.split(/\s+/).filter(Boolean)) {
          const samples = Int16Array.from({ length: n }, (_, i) => Math.round(3000 * Math.sin((2 * Math.PI * 300 * i) / this.sampleRate)));
          queue.push(this.#withWords ? { samples, words: [{ word, startMs: t, endMs: t + this.#wordMs }] } : { samples });
          t += this.#wordMs;
        }
        notify();
      },
      end: () => {
        ended = true;
        notify();
      },
      audio: (async function* () {
        for (;;) {
          if (signal.aborted) return;
          const c = queue.shift();
          if (c) yield c;
          else if (ended) return;
          else await new Promise<void>((r) => (wake = r));
        }
      })(),
    };
  }
}
