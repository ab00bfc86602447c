import { SessionJob } from '@switchboard/protocol';

/**
 * The media worker: claims session jobs from the queue and runs the audio pipeline. This build
 * only proves the workspace wiring (it shares the protocol schemas with the edge); claiming,
 * WebRTC and the pipeline arrive with the media-worker issue.
 */
export const acceptsJobs = SessionJob;

if (import.meta.url === `file://${process.argv[1]}`) {
  console.error('switchboard media worker: not implemented yet (see the media-worker issue)');
  process.exit(1);
}
