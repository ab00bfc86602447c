import { defineConfig } from 'vitest/config';

// Files that time real worker processes, werift peers, the event loop or the CPU, or load the CPU
// (speech recognition and synthesis), run one at a time: beside other files in CI they overran
// their limits (a data-channel flood, process-error handling). The rest run two at a time, 80 ->
// 41 s on 2 cores. A new file of the first kind belongs in ALONE.
const ALONE = [
  'src/werift-patches/**', 'src/voice/**', 'src/transport/webrtc/**', 'src/handlers/assistant/**',
  'src/adapters/{cartesia,elevenlabs,openai-chat}/**', 'src/adapters/openai-realtime/openai-realtime.{failures,reconnect}.test.ts',
  'src/adapters/cascade/overhead.test.ts', 'src/audio/frame-clock.test.ts', 'src/conference/mixer.bench.test.ts',
  'src/pipeline/stream-runner.test.ts', 'src/process-errors.test.ts', 'src/recording/{session-recording,track-recorder}.test.ts',
  'src/sessions/run-session.test.ts', 'src/telemetry/{overhead,stage-cpu,tracing}.test.ts', 'src/testing/run-turn.test.ts',
  'src/transport/receive-batch.test.ts', 'src/transport/socket/socket-transport.test.ts', 'src/vad/silero-model.test.ts',
].map((glob) => (glob.endsWith('**') ? `${glob}/*.test.ts` : glob));

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 0 } } },
      { test: { name: 'pairs', include: ['src/**/*.test.ts'], exclude: ALONE, maxWorkers: 2, sequence: { groupOrder: 1 } } },
    ],
  },
});
