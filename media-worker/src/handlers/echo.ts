/**
 * The default demo handler (`HANDLER=echo`): plays the caller's turn back to them.
 * Public contract: the demo echo plays no greeting and replies after 600 ms of silence (the
 * replyOnPause default, so no options are given here).
 */
import { replyOnPause } from './reply-on-pause.ts';

export default replyOnPause(async function* echo(turn) {
  yield turn;
});
