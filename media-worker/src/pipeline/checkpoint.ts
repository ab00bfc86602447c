/**
 * Checkpoints of a handler's `ctx.state`: the session's owner is handed the state's JSON text at
 * each turn end when it changed since the last checkpoint, so another connection or worker can
 * carry the conversation on. A state over MAX_STATE_BYTES (UTF-8) is not checkpointed (the edge
 * would refuse it): the client gets one `error` event and the log one line, until the state fits
 * again. A state JSON cannot express (a cycle, a BigInt) is treated the same way.
 */
import { MAX_STATE_BYTES } from '@switchboard/protocol';

export { MAX_STATE_BYTES };

export interface CheckpointerOptions {
  /** The handler's state object, shared by every pipeline of the session. */
  state: Record<string, unknown>;
  /** Receives the state's JSON text when it changed (<= MAX_STATE_BYTES). */
  onCheckpoint: (json: string) => void;
  /** Tells the client (an `error` event) and the log why a checkpoint was skipped. */
  onRefused: (message: string) => void;
  /** The JSON of the state as it was restored: no checkpoint until it changes. Default `{}`. */
  lastJson?: string;
}

export class Checkpointer {
  private readonly o: CheckpointerOptions;
  private last: string;
  /** A refusal has been reported and the state has not fitted since. */
  private refused = false;

  constructor(o: CheckpointerOptions) {
    this.o = o;
    this.last = o.lastJson ?? '{}';
  }

  /** Sends a checkpoint when the state's JSON changed; returns whether it did. */
  check(): boolean {
    let json: string;
    try {
      json = JSON.stringify(this.o.state);
    } catch (err) {
      this.refuse(`ctx.state is not JSON (${err instanceof Error ? err.message : String(err)}): not checkpointed`);
      return false;
    }
    if (json === this.last) return false;
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > MAX_STATE_BYTES) {
      this.refuse(`ctx.state is ${bytes} bytes of JSON, over the ${MAX_STATE_BYTES}-byte limit: not checkpointed, a resumed call would not get it`);
      return false;
    }
    this.refused = false;
    this.last = json;
    this.o.onCheckpoint(json);
    return true;
  }

  private refuse(message: string): void {
    if (this.refused) return;
    this.refused = true;
    this.o.onRefused(message);
  }
}

/**
 * The state a handover carries (JSON text) as the handler's object: `{}` when it is absent, not
 * JSON, or not a JSON object (`warn` hears why). Returns the text it was read from too, so an
 * unchanged state is not checkpointed again.
 */
export function restoreState(text: string | undefined, warn: (message: string) => void): { state: Record<string, unknown>; json: string } {
  if (text === undefined) return { state: {}, json: '{}' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    warn('the handed-over state is not JSON: starting from {}');
    return { state: {}, json: '{}' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    warn('the handed-over state is not a JSON object: starting from {}');
    return { state: {}, json: '{}' };
  }
  return { state: value as Record<string, unknown>, json: JSON.stringify(value) };
}
