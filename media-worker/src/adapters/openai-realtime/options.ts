/**
 * `openaiRealtime(options)`'s options, checked when the handler is built (worker start-up), so a
 * missing key or a bad option fails there and not on the first call.
 */
import type { HandlerContext } from '../../handlers/types.ts';
import { AdapterConfigError, requireEnv } from '../types.ts';

export type TurnDetection = 'server_vad' | 'semantic_vad' | 'none';

export interface RealtimeTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** Runs the call; its result (JSON-serializable) goes back to the model. */
  run(args: unknown, ctx: HandlerContext): Promise<unknown>;
}

export interface OpenAIRealtimeOptions {
  /** Default 'gpt-realtime'. */
  model?: string;
  /** Built-in voice name (e.g. 'marin', 'cedar', 'alloy'). Default: the API's. */
  voice?: string;
  /** The system instructions. */
  instructions?: string;
  tools?: readonly RealtimeTool[];
  /**
   * Who decides the caller's turn ended. Default 'server_vad'. 'none': the client does (push to
   * talk): its event `{type: "turn.end"}` commits the caller's audio and asks for a reply, and
   * `{type: "turn.start"}` interrupts the reply playing; `commitTurn(ctx)` does the same from code.
   */
  turnDetection?: TurnDetection;
  /** The model speaks first: true, or what it should say/do (appended to the instructions for that reply). Not on a takeover. */
  greeting?: boolean | string;
  /** Model for the caller's transcript; false: no user transcripts. Default 'gpt-4o-mini-transcribe'. */
  transcriptionModel?: string | false;
  /** Default env OPENAI_REALTIME_URL, else wss://api.openai.com/v1/realtime?model=<model>. */
  url?: string;
  /** Default env OPENAI_API_KEY. */
  apiKey?: string;
  /** Connect and session open timeout (ms). Default 10000. */
  connectTimeoutMs?: number;
  /** A tool call taking longer fails with an error output to the model (ms). Default 30000. */
  toolTimeoutMs?: number;
  /**
   * Model audio held between the socket and playout before the adapter stops reading the socket
   * (ms). Default 20000 (960 KB of PCM16). While it is full, barge-in waits for it to drain below half.
   */
  maxBufferedMs?: number;
}

export interface ResolvedOptions {
  model: string;
  voice: string | undefined;
  instructions: string | undefined;
  tools: readonly RealtimeTool[];
  turnDetection: TurnDetection;
  greeting: boolean | string;
  transcriptionModel: string | false;
  url: string;
  apiKey: string;
  connectTimeoutMs: number;
  toolTimeoutMs: number;
  maxBufferedMs: number;
}

const KNOWN = new Set<string>([
  'model', 'voice', 'instructions', 'tools', 'turnDetection', 'greeting', 'transcriptionModel',
  'url', 'apiKey', 'connectTimeoutMs', 'toolTimeoutMs', 'maxBufferedMs',
]);
/** The API caps a session's tools at 128. */
const MAX_TOOLS = 128;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function resolveOptions(o: OpenAIRealtimeOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const where = 'openaiRealtime';
  if (typeof o !== 'object' || o === null) throw new TypeError(`${where}: options must be an object`);
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new TypeError(`${where}: unknown option "${k}" (known: ${[...KNOWN].join(', ')})`);
  const str = (name: string, v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new TypeError(`${where}: option "${name}" must be a non-empty string`);
    return v;
  };
  const num = (name: string, v: unknown, def: number, min: number, max: number): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new RangeError(`${where}: option "${name}" must be a number from ${min} to ${max}`);
    return v;
  };
  const model = str('model', o.model) ?? 'gpt-realtime';
  const turnDetection = o.turnDetection ?? 'server_vad';
  if (!['server_vad', 'semantic_vad', 'none'].includes(turnDetection)) {
    throw new TypeError(`${where}: option "turnDetection" must be 'server_vad', 'semantic_vad' or 'none'`);
  }
  if (o.greeting !== undefined && typeof o.greeting !== 'boolean') str('greeting', o.greeting);
  if (o.transcriptionModel !== undefined && o.transcriptionModel !== false) str('transcriptionModel', o.transcriptionModel);
  const tools = o.tools ?? [];
  if (!Array.isArray(tools) || tools.length > MAX_TOOLS) throw new TypeError(`${where}: option "tools" must be an array of at most ${MAX_TOOLS} tools`);
  const names = new Set<string>();
  for (const t of tools as unknown[]) {
    const tool = t as Partial<RealtimeTool> | null;
    if (typeof tool?.name !== 'string' || !TOOL_NAME.test(tool.name)) throw new TypeError(`${where}: each tool needs a name of 1-64 letters, digits, _ or -`);
    if (names.has(tool.name)) throw new TypeError(`${where}: two tools are named "${tool.name}"`);
    names.add(tool.name);
    if (typeof tool.description !== 'string') throw new TypeError(`${where}: tool "${tool.name}" needs a description`);
    if (typeof tool.parameters !== 'object' || tool.parameters === null) throw new TypeError(`${where}: tool "${tool.name}" needs parameters (a JSON Schema object)`);
    if (typeof tool.run !== 'function') throw new TypeError(`${where}: tool "${tool.name}" needs a run(args, ctx) function`);
  }
  const url = str('url', o.url) ?? env.OPENAI_REALTIME_URL?.trim() ?? `wss://api.openai.com/v1/realtime?model=${encodeURIComponent(model)}`;
  if (!/^wss?:\/\//.test(url)) throw new AdapterConfigError(`${where}: the Realtime URL must start with wss:// or ws:// (got ${url.slice(0, 60)}; set by option "url" or OPENAI_REALTIME_URL)`);
  const apiKey = o.apiKey === undefined ? requireEnv('OPENAI_API_KEY', 'the OpenAI Realtime adapter', env) : str('apiKey', o.apiKey)!;
  return {
    model,
    voice: str('voice', o.voice),
    instructions: o.instructions === undefined ? undefined : (str('instructions', o.instructions) ?? ''),
    tools,
    turnDetection,
    greeting: o.greeting ?? false,
    transcriptionModel: o.transcriptionModel ?? 'gpt-4o-mini-transcribe',
    url,
    apiKey,
    connectTimeoutMs: num('connectTimeoutMs', o.connectTimeoutMs, 10_000, 100, 120_000),
    toolTimeoutMs: num('toolTimeoutMs', o.toolTimeoutMs, 30_000, 1, 600_000),
    maxBufferedMs: num('maxBufferedMs', o.maxBufferedMs, 20_000, 1000, 600_000),
  };
}
