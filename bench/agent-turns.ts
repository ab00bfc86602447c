import { fileURLToPath } from 'node:url';
import type { StageMetrics } from '@switchboard/protocol';
import { audioFrame } from '../media-worker/src/audio/frame.ts';
import { FakeDeepgramServer, type FakeDeepgramConnection } from '../media-worker/src/adapters/fakes/deepgram-live-server.ts';
import { FakeElevenLabsServer } from '../media-worker/src/adapters/fakes/elevenlabs-tts-server.ts';
import { FakeOpenAiServer } from '../media-worker/src/adapters/fakes/openai-chat-server.ts';
import { RtcTestClient } from '../test/support/rtc-client.ts';
import { percentile } from './stack/percentiles.ts';

/** What the faked providers take (ms). Set on the running fakes between rows (their options are read per message). */
export interface ProviderLatency {
  /** Deepgram: before every server message, so also before the speech_final Results. */
  sttResultMs: number;
  llmFirstTokenMs: number;
  llmPerTokenMs: number;
  /** ElevenLabs: text received -> first audio message of the reply's socket. */
  ttsFirstAudioMs: number;
}
export const ZERO: ProviderLatency = { sttResultMs: 0, llmFirstTokenMs: 0, llmPerTokenMs: 0, ttsFirstAudioMs: 0 };
export const REALISTIC: ProviderLatency = { sttResultMs: 150, llmFirstTokenMs: 300, llmPerTokenMs: 20, ttsFirstAudioMs: 150 };

/** The caller's utterance: 600 ms of a 220 Hz tone (RMS 5.7k; the fake Deepgram's detector takes > 500 as speech). */
const UTTERANCE_MS = 600;
const UTTERANCE = audioFrame(Int16Array.from({ length: 48 * UTTERANCE_MS }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 48_000))), 48_000);
/**
 * The LLM's answer: the splitter ends "Sure, I can help." at the next token, so the TTS gets its
 * first sentence one token after the period. At the fake TTS's 50 ms per character the reply
 * plays 2.2 s, which sets the pace of the turns (about 3.5 s each).
 */
const REPLY = 'Sure, I can help. What time works for you?';
/** No reply packet for this long after `reply.end`: the reply has played out, the caller speaks again. */
const QUIET_MS = 250;
const TURN_TIMEOUT_MS = 10_000;

interface Fakes {
  dg: FakeDeepgramServer;
  llm: FakeOpenAiServer;
  tts: FakeElevenLabsServer;
  env: Record<string, string>;
}

async function startFakes(): Promise<Fakes> {
  const dg = await FakeDeepgramServer.start({ transcripts: ['I would like a table for two tonight.'] });
  const llm = await FakeOpenAiServer.start();
  const tts = await FakeElevenLabsServer.start();
  const env = {
    HANDLER: fileURLToPath(new URL('./agent-handler.ts', import.meta.url)),
    DEEPGRAM_URL: dg.url,
    DEEPGRAM_API_KEY: 'test-key',
    OPENAI_BASE_URL: llm.baseURL,
    OPENAI_API_KEY: 'test-key',
    ELEVENLABS_URL: tts.url,
    ELEVENLABS_API_KEY: 'test-key',
  };
  return { dg, llm, tts, env };
}

function setLatency(f: Fakes, l: ProviderLatency): void {
  f.dg.options.resultDelayMs = l.sttResultMs;
  f.llm.respond = () => ({ text: REPLY, firstTokenDelayMs: l.llmFirstTokenMs, tokenDelayMs: l.llmPerTokenMs });
  f.tts.options.firstAudioDelayMs = l.ttsFirstAudioMs;
}

/**
 * Records when the fake sends each `speech_final` Results (performance.now(), this process's
 * clock, which the werift client's arrival times share). The fake has no hook for it; its
 * connection's socket is public, so its send is wrapped.
 */
function recordSpeechFinals(conn: FakeDeepgramConnection): number[] {
  const at: number[] = [];
  const ws = conn.ws as unknown as { send: (data: unknown, ...rest: unknown[]) => void };
  const send = ws.send.bind(ws);
  ws.send = (data, ...rest) => {
    if (typeof data === 'string' && data.includes('"speech_final":true')) at.push(performance.now());
    send(data, ...rest);
  };
  return at;
}

/** One measured turn (ms). */
export interface AgentTurn {
  /** The fake Deepgram sent the speech_final Results -> the first RTP packet of the reply arrived at the client. */
  finalToFirstPacket: number;
  /** The caller's audio ended (leaving the client) -> the first reply packet arrived: adds endpointing and the STT's delay. */
  audioEndToFirstPacket: number;
  stages: StageMetrics;
}

interface Call {
  client: RtcTestClient;
  finals: number[];
}

/** Connects one call and finds its fake Deepgram connection (calls connect one at a time, so the next connection is its own). */
async function connect(edgeUrl: string, f: Fakes): Promise<Call> {
  const n = f.dg.connections.length + 1;
  const client = await RtcTestClient.connect(edgeUrl);
  return { client, finals: recordSpeechFinals(await f.dg.waitForConnection(n, 10_000)) };
}

/** `turns` turns on one call: speak, keep sending silence until the reply has played out, take the turn's times. */
async function talk(call: Call, turns: number, name: string, failures: string[]): Promise<AgentTurn[]> {
  const c = call.client;
  const out: AgentTurn[] = [];
  for (let k = 0; k < turns; k++) {
    const audioEnd = (await c.play(UTTERANCE)) + UTTERANCE_MS;
    let done = false;
    while (!done && performance.now() < audioEnd + TURN_TIMEOUT_MS) {
      await c.silence(100);
      const ended = c.events.some((e) => e.type === 'reply.end' && e.receivedAt > audioEnd);
      done = ended && performance.now() - (c.received.at(-1)?.at ?? 0) > QUIET_MS;
    }
    const final = call.finals.find((t) => t > audioEnd);
    // The worker sends nothing between replies, so the first packet after the final is the reply's.
    const first = final === undefined ? undefined : c.received.find((r) => r.at > final)?.at;
    const stages = final === undefined ? undefined : c.events.find((e) => e.type === 'metrics.stages' && e.receivedAt > final);
    const errors = c.events.filter((e) => e.type === 'error' && e.receivedAt > audioEnd).map((e) => String(e['message']));
    if (!done || final === undefined || first === undefined || stages === undefined || errors.length > 0) {
      failures.push(`${name} turn ${k}: ${[!done && 'no reply.end then quiet', final === undefined && 'no speech_final', first === undefined && 'no reply packet', stages === undefined && 'no metrics.stages', ...errors].filter(Boolean).join(', ')}`);
      continue;
    }
    out.push({ finalToFirstPacket: first - final, audioEndToFirstPacket: first - audioEnd, stages: stages as unknown as StageMetrics });
  }
  return out;
}

/** `calls` calls at once (connected one after another), their turns staggered across one turn's length (~3 s). */
async function runCalls(edgeUrl: string, f: Fakes, calls: number, turns: number, name: string, failures: string[]): Promise<AgentTurn[]> {
  const connected: Call[] = [];
  try {
    for (let i = 0; i < calls; i++) connected.push(await connect(edgeUrl, f));
    const staggerMs = 3000 / calls;
    const perCall = await Promise.all(
      connected.map(async (call, i) => {
        await call.client.silence(Math.round(i * staggerMs));
        return talk(call, turns, `${name} call ${i}`, failures);
      }),
    );
    return perCall.flat();
  } finally {
    await Promise.all(connected.map((c) => c.client.hangup().catch(() => 0)));
  }
}

export interface Stat {
  n: number;
  p50: number;
  p95: number;
  max: number;
}
const stat = (xs: readonly number[]): Stat => {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: xs.length, p50: r(percentile(xs, 50)), p95: r(percentile(xs, 95)), max: r(xs.length ? Math.max(...xs) : Number.NaN) };
};

export interface AgentRow {
  latency: ProviderLatency;
  finalToFirstPacket: Stat;
  audioEndToFirstPacket: Stat;
  /** Per turn: finalToFirstPacket - totalMs: the final's trip to the worker plus first frame handed to the transport -> packet arrived. */
  outsideCascade: Stat;
  /** The STT's end of speech (its last word's end, as the cascade places it in time) -> its final received; null when it never said. */
  sttFinalMs: Stat | null;
  stages: Record<'sttToLlmMs' | 'llmFirstTokenMs' | 'sentenceToTtsMs' | 'ttsFirstAudioMs' | 'ttsToOutputMs' | 'totalMs', Stat>;
  turns: AgentTurn[];
}

function row(latency: ProviderLatency, turns: AgentTurn[]): AgentRow {
  const s = (k: keyof AgentRow['stages']) => stat(turns.map((t) => t.stages[k]));
  return {
    latency,
    finalToFirstPacket: stat(turns.map((t) => t.finalToFirstPacket)),
    audioEndToFirstPacket: stat(turns.map((t) => t.audioEndToFirstPacket)),
    outsideCascade: stat(turns.map((t) => t.finalToFirstPacket - t.stages.totalMs)),
    sttFinalMs: ((xs) => (xs.length > 0 ? stat(xs) : null))(turns.flatMap((t) => (t.stages.sttFinalMs === undefined ? [] : [t.stages.sttFinalMs]))),
    stages: { sttToLlmMs: s('sttToLlmMs'), llmFirstTokenMs: s('llmFirstTokenMs'), sentenceToTtsMs: s('sentenceToTtsMs'), ttsFirstAudioMs: s('ttsFirstAudioMs'), ttsToOutputMs: s('ttsToOutputMs'), totalMs: s('totalMs') },
    turns,
  };
}

export interface AgentSection {
  calls: number;
  turnsPerCall: number;
  zero: AgentRow;
  realistic: AgentRow;
  /** zero.finalToFirstPacket.p50 / realistic.finalToFirstPacket.p50: the platform's share of a turn with realistic providers. */
  platformShare: number;
  failures: string[];
}

/**
 * The cascade (bench/agent-handler.ts) in a real worker process, `calls` werift calls at once
 * through the edge, `turnsPerCall` turns each: first with every faked provider at zero latency
 * (what remains is the platform), then with REALISTIC latencies, on the same worker and fakes.
 * A warm-up call of one turn goes first and is not counted. `withWorker` runs `fn` with a worker
 * started with `env` (the handler, the fakes' URLs and keys).
 */
export async function runAgentSection(edgeUrl: string, o: { calls: number; turnsPerCall: number }, withWorker: (env: Record<string, string>, fn: () => Promise<void>) => Promise<void>): Promise<AgentSection> {
  const f = await startFakes();
  const failures: string[] = [];
  let zero: AgentTurn[] = [];
  let realistic: AgentTurn[] = [];
  try {
    await withWorker(f.env, async () => {
      setLatency(f, ZERO);
      await runCalls(edgeUrl, f, 1, 1, 'warm-up', []);
      zero = await runCalls(edgeUrl, f, o.calls, o.turnsPerCall, 'zero', failures);
      setLatency(f, REALISTIC);
      realistic = await runCalls(edgeUrl, f, o.calls, o.turnsPerCall, 'realistic', failures);
    });
  } finally {
    await Promise.all([f.dg.close(), f.llm.close(), f.tts.close()]);
  }
  const z = row(ZERO, zero);
  const r = row(REALISTIC, realistic);
  return { ...o, zero: z, realistic: r, platformShare: Math.round((z.finalToFirstPacket.p50 / r.finalToFirstPacket.p50) * 1000) / 1000, failures };
}

export function printAgentSection(r: AgentSection): void {
  const l = REALISTIC;
  console.log(`  ms over ${r.calls} calls at once x ${r.turnsPerCall} turns; providers at 0 ms, then realistic (STT ${l.sttResultMs} ms result delay,`);
  console.log(`  LLM ${l.llmFirstTokenMs} ms first token + ${l.llmPerTokenMs} ms/token, TTS ${l.ttsFirstAudioMs} ms first audio). Stages from the worker's metrics.stages events.`);
  const line = (get: (x: AgentRow) => Stat) => ({ 'providers 0: p50': get(r.zero).p50, p95: get(r.zero).p95, 'realistic: p50': get(r.realistic).p50, 'p95 ': get(r.realistic).p95 });
  const none: Stat = { n: 0, p50: Number.NaN, p95: Number.NaN, max: Number.NaN };
  console.table({
    'STT end of speech (its last word) -> its final received (sttFinalMs)': line((x) => x.sttFinalMs ?? none),
    'STT speech_final sent -> first reply RTP packet arrives': line((x) => x.finalToFirstPacket),
    '  STT final received -> LLM request (sttToLlmMs)': line((x) => x.stages.sttToLlmMs),
    '  LLM request -> first token (llmFirstTokenMs)': line((x) => x.stages.llmFirstTokenMs),
    '  first sentence -> TTS request (sentenceToTtsMs)': line((x) => x.stages.sentenceToTtsMs),
    '  TTS request -> first audio (ttsFirstAudioMs)': line((x) => x.stages.ttsFirstAudioMs),
    '  first audio -> frame to transport (ttsToOutputMs)': line((x) => x.stages.ttsToOutputMs),
    '  final received -> frame to transport (totalMs)': line((x) => x.stages.totalMs),
    '  outside the cascade (final in, frame -> RTP arrives)': line((x) => x.outsideCascade),
    'caller audio ends -> first reply packet (300 ms endpointing)': line((x) => x.audioEndToFirstPacket),
  });
  console.log(`  platform share of a realistic turn (speech_final -> first packet, p50 at 0 ms / p50 realistic): ${r.platformShare}`);
  for (const f of r.failures) console.log(`  ${f}`);
}
