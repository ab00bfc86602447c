/**
 * What the handler learns of each leg on its own, beside the mix it hears: each leg's own audio
 * tagged with its leg id (`ctx.legs.listen`: the conference's ticks, or the caller's frames while
 * it is alone), and who is speaking (`ctx.legs.speaking()`, per-leg VAD: conference/leg-speech.ts).
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { AudioFrame } from '../audio/frame.ts';
import type { Conference } from '../conference/conference.ts';
import { LegSpeech } from '../conference/leg-speech.ts';
import type { VadFactory } from '../pipeline/session-pipeline.ts';
import type { MediaTransport } from '../transport/types.ts';

export class LegTaps {
  readonly #primaryId: string;
  readonly #vad: VadFactory | undefined;
  readonly #send: (event: ChannelMessage) => void;
  readonly #log: (m: string) => void;
  readonly #now: () => number;
  readonly #listeners = new Set<(legId: string, frame: AudioFrame) => void>();
  #offPrimary: void | (() => void) = undefined;
  #offTick: (() => void) | null = null;
  #speech: LegSpeech | null = null;
  #conference: Conference | null = null;

  constructor(o: { primaryId: string; vad: VadFactory | undefined; send: (event: ChannelMessage) => void; log: (m: string) => void; now: () => number }) {
    this.#primaryId = o.primaryId;
    this.#vad = o.vad;
    this.#send = o.send;
    this.#log = o.log;
    this.#now = o.now;
  }

  listen(cb: (legId: string, frame: AudioFrame) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  speaking(): string[] {
    return this.#speech?.speaking() ?? [];
  }

  /** The caller's (new) transport: its frames are the tagged audio while no conference runs. */
  primary(t: MediaTransport): void {
    this.#offPrimary?.();
    this.#offPrimary = t.onAudio((frame) => {
      if (this.#conference || this.#listeners.size === 0) return;
      for (const cb of this.#listeners) cb(this.#primaryId, frame);
    });
  }

  /** A conference runs from now (null: it was retired): its ticks feed the taps. */
  conference(conf: Conference | null): void {
    this.#offTick?.();
    this.#offTick = null;
    this.#speech?.close();
    this.#speech = null;
    this.#conference = conf;
    if (!conf) return;
    const vad = this.#vad;
    const speech = vad ? new LegSpeech({ vad, send: this.#send, log: this.#log, now: this.#now }) : null;
    this.#speech = speech;
    this.#offTick = conf.onTick((r) => {
      speech?.tick(r);
      if (this.#listeners.size === 0) return;
      for (const leg of r.legs) {
        if (!leg.live) continue;
        const frame: AudioFrame = { samples: leg.frame.samples.slice(), sampleRate: leg.frame.sampleRate, channels: 1 };
        for (const cb of this.#listeners) cb(leg.legId, frame);
      }
    });
  }

  close(): void {
    this.#offPrimary?.();
    this.conference(null);
    this.#listeners.clear();
  }
}
