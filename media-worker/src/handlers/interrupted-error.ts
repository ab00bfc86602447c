import type { Interruption } from './types.ts';

/** The abort reason of a reply's signal when the caller interrupted it. */
export class InterruptedError extends Error {
  readonly interruption: Interruption;
  constructor(interruption: Interruption) {
    super(`the caller interrupted the reply after ${Math.round(interruption.playedMs)} ms`);
    this.name = 'AbortError';
    this.interruption = interruption;
  }
}
