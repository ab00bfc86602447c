/**
 * Node flags the worker runs with: the image's CMD, `npm start` in media-worker/ and the local
 * stack all pass these (test/deploy/container-install.test.ts checks the image and the script).
 *
 * --max-semi-space-size=16 (MiB; V8's default tops out at 8 on 64-bit): every 20 ms frame of every
 * call allocates (decoded PCM, Opus packets, RTP buffers), so with the default young generation
 * objects that live across a frame or two are promoted and the old generation fills, and
 * mark-compact ran about once a second at 60 echo calls, pausing the shared media clock 7-21 ms.
 * Measured by `npm run bench` (media, 2 rounds at 20 and 60 calls): at 60 calls worker CPU per
 * session 1.00/1.14 -> 0.85/0.90 % of a core, send-lateness p99 <=15 -> <=5/<=10 ms, ticks more
 * than 10 ms late 1.5/1.2 -> 0.5/0.6 %, RSS 271/276 -> 238 MiB; at 20 calls within the noise.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
