import { FrameClock } from '../client/src/frame-clock.ts';
import { StreamClient } from '../client/src/stream-client.ts';
import { PHRASE_2_ONSET_MS, SILENCE_MS, speech } from './speech-fixture.ts';
import { failedSample, firstTurnLatency, heardTimeline, turnSample, type TurnSample } from './turn-samples.ts';

const RATE = 16_000;
const FRAME = RATE / 50;
/** How long to wait for the close handshake after hanging up before giving up on it (ms). */
const CLOSE_WAIT_MS = 3000;

/**
 * One WebSocket audio client session (`GET /v1/stream`, PCM16 16 kHz both ways, reply audio played
 * in real time) of the two-phrase fixture, then `tailMs` of silence. The client does not pace its
 * audio: a drift-free 20 ms clock sends frame k (k = 1, 2, ...) at stream time k * 20 ms, as the
 * caller simulator does, so stream time 0 is the start of the recording and phrase 2 begins at its
 * label. Turns are timed by energy, as the caller simulator times them, on the audio as played.
 */
export async function streamSession(o: { edgeUrl: string; tailMs: number }): Promise<TurnSample> {
  if (speech.sampleRate !== RATE) throw new Error(`the fixture is ${speech.sampleRate} Hz; the stream session sends ${RATE}`);
  const url = `${o.edgeUrl.replace(/^http/, 'ws')}/v1/stream`;
  let client: StreamClient;
  try {
    client = await StreamClient.connect(url, { format: { encoding: 'pcm16', sampleRate: RATE }, playback: 'realtime' });
  } catch (err) {
    return failedSample(`connect failed: ${(err as Error).message}`);
  }
  try {
    await client.started;
  } catch (err) {
    return failedSample(`no started: ${(err as Error).message}`);
  }
  const input = speech.samples;
  const frames = Math.ceil(input.length / FRAME);
  const endMs = frames * 20 + o.tailMs;
  const origin = performance.now();
  const clears: number[] = [];
  client.on('clear', (c) => clears.push(c.atMs + client.timeOrigin - origin));

  let sent = 0;
  await new Promise<void>((resolve) => {
    const clock = new FrameClock(20, (due) => {
      if (sent < frames && client.isOpen) {
        client.sendAudio(input.subarray(sent * FRAME, (sent + 1) * FRAME));
        sent++;
      }
      if (due - origin >= endMs || !client.isOpen) {
        clock.stop();
        resolve();
      }
    });
    clock.start(origin + 20);
  });
  const endedEarly = !client.isOpen;
  client.close(1000, 'bench session over');
  await Promise.race([client.closed, new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))]);

  const outRate = client.startedInfo?.output.sampleRate ?? RATE;
  const heard = heardTimeline(client.heard, outRate, origin - client.timeOrigin);
  const sample = turnSample({
    turnLatencyMs: firstTurnLatency(input.subarray(0, sent * FRAME), RATE, heard, outRate),
    firstClearMs: clears[0],
    silenceMs: SILENCE_MS,
    phrase2OnsetMs: PHRASE_2_ONSET_MS,
    protocolErrors: client.errors.map((e) => `${e.code}: ${e.message}`),
  });
  if (endedEarly) sample.failures.push(`the server closed the stream after ${sent} of ${frames} frames`);
  return sample;
}
