/**
 * A handler for conference tests (`HANDLER=<this file>` for a worker process, or the named export
 * in process): a `stream` handler that listens to everyone and says nothing, so whatever a leg
 * hears comes from the other legs only.
 */
import { stream } from '../../media-worker/src/handlers/stream.ts';

export const silentListener = stream(async function* (input) {
  for await (const _frame of input) {
    // the bot hears the conference and stays quiet
  }
});

export default silentListener;
