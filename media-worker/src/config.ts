import { z } from 'zod';
import { parseAllowedClasses } from './transport/webrtc/remote-candidates.ts';
import { MAX_SAY_CHARS } from './voice/say-text.ts';

const optionalInt = (def: number) => z.coerce.number().int().nonnegative().default(def);

/** Unset or empty: null; else a number that passes `ok`, or the issue `${what}, not "<value>"`. */
const optionalNumber = (ok: (n: number) => boolean, what: string) =>
  z
    .string()
    .default('')
    .transform((v, ctx) => {
      if (v.trim() === '') return null;
      const n = Number(v);
      if (ok(n)) return n;
      ctx.addIssue({ code: 'custom', message: `${what}, not "${v}"` });
      return z.NEVER;
    });

/** The media worker's configuration (docs/ARCHITECTURE.md; the README's table), from the environment. Times in ms. */
const WorkerConfig = z
  .object({
    PUBLIC_BASE_URL: z.url().default('http://127.0.0.1:8787').transform((u) => u.replace(/\/+$/, '')),
    SQS_QUEUE_URL: z.string().min(1, 'SQS_QUEUE_URL is required'),
    SQS_ENDPOINT: z.string().default(''),
    AWS_REGION: z.string().default('us-east-1'),
    /** Static credentials (local queue); unset on AWS, where the task role's credentials are used. */
    AWS_ACCESS_KEY_ID: z.string().default(''),
    AWS_SECRET_ACCESS_KEY: z.string().default(''),
    HANDLER: z.string().default('echo'),
    MAX_SESSIONS: z.coerce.number().int().positive().default(20),
    TIME_LIMIT_MS: optionalInt(3_600_000),
    DRAIN_TIMEOUT_MS: optionalInt(60_000),
    /**
     * How long a WebRTC session whose peer connection closed or failed (a page reloaded, a network
     * changed) waits for its client to resume before it ends: the edge's resume window.
     */
    RESUME_GRACE_MS: optionalInt(30_000),
    RTC_PORT_MIN: optionalInt(0),
    RTC_PORT_MAX: optionalInt(0),
    /**
     * Where in each 20 ms period (on the wall clock) this process's frame clock ticks: worker
     * processes on one host are given offsets spread over the period so their bursts do not
     * coincide (npm start's WORKERS; unset: wherever the process's start put it).
     */
    FRAME_CLOCK_OFFSET_MS: optionalNumber((n) => n >= 0 && n < 20, 'FRAME_CLOCK_OFFSET_MS must be a number of ms from 0 to under 20'),
    /**
     * One UDP port for every WebRTC call of the process (werift-patches/udp-mux.ts): '0' lets the
     * OS pick it; '' (default) gives each call a socket of its own, in RTC_PORT_MIN..MAX if set.
     */
    RTC_UDP_PORT: optionalNumber((n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'RTC_UDP_PORT must be a port (0-65535; 0: any free one)'),
    PUBLIC_IP: z.string().default(''),
    ICE_POLICY: z.enum(['all', 'relay']).default('all'),
    /** Local address WebRTC binds and gathers on ('' = every interface; 127.0.0.1 locally). */
    RTC_INTERFACE: z.string().default(''),
    /**
     * Non-public addresses a client's ICE candidates may name, as a comma list of `loopback`
     * (127/8, ::1), `private` (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and `linklocal`
     * (169.254/16, fe80::/10). Default '': public addresses only, so a stranger cannot point the
     * worker's packets into its own host or network. Local stacks allow loopback.
     */
    RTC_ALLOW_PEER_ADDRESSES: z
      .string()
      .default('')
      .transform((v, ctx) => {
        try {
          return parseAllowedClasses(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    /** Where /healthz, /readyz and /metrics listen. */
    WORKER_HTTP_HOST: z.string().default('127.0.0.1'),
    WORKER_HTTP_PORT: optionalInt(9090),
    /** Long-poll wait of one ReceiveMessage call, in seconds (SQS allows 0-20). */
    SQS_WAIT_S: z.coerce.number().int().min(0).max(20).default(20),
    /**
     * Seconds a received job stays hidden from other workers while this one claims it (a claim is
     * one WebSocket dial, tens of ms). A job lost to a receive nobody reads any more (a worker
     * killed or stopped mid-poll) comes back after this long, inside the edge's CLAIM_TIMEOUT_MS.
     */
    SQS_VISIBILITY_S: z.coerce.number().int().min(1).max(43_200).default(3),
    WORKER_ID: z.string().default(''),
    /** Set by ECS in the task ('' locally): task scale-in protection is a no-op without it. */
    ECS_AGENT_URI: z.string().default(''),
    /** Set by ECS (Fargate 1.4.0+); read at start-up when PUBLIC_IP is unset (ecs/task-metadata.ts). */
    ECS_CONTAINER_METADATA_URI_V4: z.string().default(''),
    /** Opt-in: a URL answering the caller's public IPv4 as text, asked when PUBLIC_IP is unset. */
    PUBLIC_IP_LOOKUP_URL: z.string().default(''),
    /** ExpiresInMinutes of each scale-in protection (ECS allows 1-2880); renewed at half. */
    TASK_PROTECTION_MINUTES: z.coerce.number().int().min(1).max(2880).default(60),
    /** Idle time before scale-in protection is dropped (debounce against flapping). */
    TASK_PROTECTION_IDLE_MS: optionalInt(30_000),
    /** CloudWatch namespace of the utilisation metric, written to stdout as EMF ('' = not published). */
    METRICS_NAMESPACE: z.string().default(''),
    /** ServiceName dimension of that metric ('' = switchboard-media-worker). */
    METRICS_SERVICE: z.string().default(''),
    /** How often a utilisation line is written: the window its mean and peak cover. */
    METRICS_PUBLISH_MS: z.coerce.number().int().positive().default(60_000),
    /**
     * Opus encoder for WebRTC replies. 'restricted_lowdelay' (CELT only): fullband at ~33 kbit/s,
     * 2.5 ms lookahead, ~45 us per 20 ms frame; it carries no in-band FEC (LBRR exists only in
     * SILK). 'voip': SILK/hybrid with in-band FEC for lossy links, 6.5 ms lookahead, ~4.5x the
     * encode CPU. Measured by `npm run bench` (media); the modes are tested in audio/opus.test.ts.
     */
    OPUS_APPLICATION: z.enum(['restricted_lowdelay', 'voip', 'audio']).default('restricted_lowdelay'),
    /**
     * libopus complexity 0..10 for the WebRTC reply encoder. 6 keeps every CELT coding tool and
     * drops only the float build's tonality analysis (run at 7 and up), a third of the encode CPU
     * (62 -> 41 us per 20 ms frame); on the speech fixture at 51 kbit/s that costs 0.85 dB SNR
     * coded from 48 kHz and nothing measurable coded at 16 or 24 kHz (tested: audio/opus.test.ts).
     */
    OPUS_COMPLEXITY: z.coerce.number().int().min(0).max(10).default(6),
    /**
     * Bit rate of the WebRTC reply encoder, bits/s, at every reply rate (the default is
     * webrtc-transport.ts REPLY_BITRATE: what browsers send for mono Opus). libopus' own default
     * at 48 kHz, 51 kbit/s, costs 13% more encode CPU (37 -> 32 us per 20 ms frame, speech
     * fixture, complexity 6) and 60% more bandwidth.
     */
    OPUS_BITRATE: z.coerce.number().int().min(6000).max(510_000).default(32_000),
    /**
     * 'on': once a WebRTC call is connected over a direct UDP pair, its audio RTP bypasses
     * werift's per-packet layers (transport/webrtc/rtp-fast-path.ts); 'off': werift carries every
     * packet. TURN-relayed pairs always use werift's path.
     */
    RTP_FAST_PATH: z.enum(['on', 'off']).default('on'),
    /**
     * Session recording (recording/session-recording.ts). Storage: S3 when RECORDING_BUCKET is set,
     * else the local folder RECORDING_DIR; with neither, a session asking to be recorded runs
     * unrecorded and reports the failure in its `recording.saved`.
     */
    RECORDING_BUCKET: z.string().default(''),
    /**
     * Key prefix in the bucket: keys are `{prefix}{sessionId}/{track}.ogg`. A folder: empty (unset
     * means the default) or ending in `/`, without a leading `/`.
     */
    RECORDING_PREFIX: z
      .string()
      .default('recordings/')
      .refine((p) => /^(?:[^/]+\/)*$/.test(p), 'RECORDING_PREFIX must end with "/" and not start with one'),
    /** Local folder: files go to `{dir}/{sessionId}/{track}.ogg` (used when no bucket is set). */
    RECORDING_DIR: z.string().default(''),
    /** S3 endpoint for an S3-compatible store (a local fake); '' = AWS. Path-style addressing when set. */
    RECORDING_S3_ENDPOINT: z.string().default(''),
    /** Said to each phone leg before its recording starts ('' = no notice). */
    RECORDING_NOTICE: z.string().max(MAX_SAY_CHARS).default(''),
    /** 'true': every session is recorded, whether or not it asked. */
    RECORD_ALL: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  })
  .refine((c) => (c.RTC_PORT_MIN === 0) === (c.RTC_PORT_MAX === 0) && c.RTC_PORT_MIN <= c.RTC_PORT_MAX, {
    message: 'RTC_PORT_MIN and RTC_PORT_MAX must both be set, with MIN < MAX',
  })
  .refine((c) => c.RTC_UDP_PORT === null || c.RTC_PORT_MIN === 0, {
    message: 'RTC_UDP_PORT (one shared port) and RTC_PORT_MIN/RTC_PORT_MAX (a port per call) exclude each other: set one',
  });
export type WorkerConfig = z.infer<typeof WorkerConfig>;

/** What session recording reads of the configuration. */
export type RecordingConfig = Pick<
  WorkerConfig,
  | 'RECORDING_BUCKET'
  | 'RECORDING_PREFIX'
  | 'RECORDING_DIR'
  | 'RECORDING_S3_ENDPOINT'
  | 'RECORDING_NOTICE'
  | 'RECORD_ALL'
  | 'AWS_REGION'
  | 'AWS_ACCESS_KEY_ID'
  | 'AWS_SECRET_ACCESS_KEY'
>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const picked = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = WorkerConfig.safeParse(picked);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`invalid configuration ${i?.path.join('.') ?? ''}: ${i?.message ?? ''}`);
  }
  return r.data;
}
