import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseProtectionResponse, TaskProtection, type TaskProtectionOptions } from './task-protection.ts';

const TASK_ARN = 'arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3';

interface Put {
  method: string;
  path: string;
  contentType: string;
  body: { ProtectionEnabled?: boolean; ExpiresInMinutes?: number };
}

/**
 * A stand-in for the ECS agent's task-protection endpoint, answering in the agent's formats.
 * `failNext` makes the next requests answer 500 with the documented error body.
 */
interface FakeAgent {
  uri: string;
  puts: Put[];
  failNext: number;
  close(): Promise<void>;
}

async function fakeAgent(): Promise<FakeAgent> {
  const agent: FakeAgent = { uri: '', puts: [], failNext: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Put['body'];
      agent.puts.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
      res.setHeader('content-type', 'application/json');
      if (agent.failNext > 0) {
        agent.failNext--;
        res.statusCode = 500;
        res.end(JSON.stringify({ requestID: 'req-1', error: { Arn: TASK_ARN, Code: 'ServerException', Message: 'error message' } }));
        return;
      }
      const enabled = body.ProtectionEnabled === true;
      const protection = enabled
        ? { ExpirationDate: new Date(Date.now() + (body.ExpiresInMinutes ?? 120) * 60_000).toISOString(), ProtectionEnabled: true, TaskArn: TASK_ARN }
        : { ExpirationDate: null, ProtectionEnabled: false, TaskArn: TASK_ARN };
      res.end(JSON.stringify({ protection }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  // ECS_AGENT_URI looks like http://169.254.170.2/api/<id>: the path is kept and appended to.
  agent.uri = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/api/abc-123`;
  agent.close = () => new Promise((r) => server.close(() => r()));
  return agent;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

let agent: FakeAgent;
let tp: TaskProtection | undefined;
let logs: string[];

function protection(opts: Partial<TaskProtectionOptions> = {}): TaskProtection {
  logs = [];
  tp = new TaskProtection({ agentUri: agent.uri, idleDisableMs: 100, retryBaseMs: 20, log: (m) => logs.push(m), ...opts });
  return tp;
}

afterEach(async () => {
  await tp?.close(500);
  tp = undefined;
  await agent?.close();
});

describe('TaskProtection against a fake ECS agent', () => {
  it('enables on the first session with ExpiresInMinutes, keeps it while busy, drops it after the idle debounce', async () => {
    agent = await fakeAgent();
    const p = protection({ expiresInMinutes: 45, idleDisableMs: 200 });
    p.setBusy(1);
    await until(() => agent.puts.length === 1);
    expect(agent.puts[0]).toEqual({
      method: 'PUT',
      path: '/api/abc-123/task-protection/v1/state',
      contentType: 'application/json',
      body: { ProtectionEnabled: true, ExpiresInMinutes: 45 },
    });
    p.setBusy(2);
    p.setBusy(1);
    await sleep(250); // longer than the idle debounce, but never idle
    expect(agent.puts).toHaveLength(1);

    p.setBusy(0);
    await sleep(80);
    p.setBusy(1); // back within the debounce: no flap
    p.setBusy(0);
    await sleep(80);
    expect(agent.puts).toHaveLength(1);
    await until(() => agent.puts.length === 2);
    expect(agent.puts[1]?.body).toEqual({ ProtectionEnabled: false });
    expect(logs.some((l) => l.startsWith('task protection on until 20'))).toBe(true);
    // The agent has the PUT before the client has read the answer.
    await until(() => logs.at(-1) === 'task protection off');
  });

  it('renews before expiry while busy', async () => {
    agent = await fakeAgent();
    const p = protection({ renewEveryMs: 60 });
    p.setBusy(3);
    await until(() => agent.puts.length >= 3);
    expect(agent.puts.every((r) => r.body.ProtectionEnabled === true && r.body.ExpiresInMinutes === 60)).toBe(true);
  });

  it('renews at half of ExpiresInMinutes by default, and drops after 30 s idle (fake clock)', async () => {
    agent = await fakeAgent();
    vi.useFakeTimers();
    try {
      const bodies: unknown[] = [];
      const fetchFn = (async (_url: string | URL | Request, init?: RequestInit) => {
        bodies.push(JSON.parse(String(init?.body)));
        return Response.json({ protection: { ExpirationDate: null, ProtectionEnabled: true, TaskArn: TASK_ARN } });
      }) as typeof fetch;
      const p = new TaskProtection({ agentUri: 'http://169.254.170.2/api/x', fetchFn, log: () => {} });
      p.setBusy(1);
      await vi.advanceTimersByTimeAsync(0);
      expect(bodies).toEqual([{ ProtectionEnabled: true, ExpiresInMinutes: 60 }]);
      await vi.advanceTimersByTimeAsync(30 * 60_000 - 1);
      expect(bodies).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(bodies).toHaveLength(2);
      p.setBusy(0);
      await vi.advanceTimersByTimeAsync(29_999);
      expect(bodies).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(bodies.at(-1)).toEqual({ ProtectionEnabled: false });
    } finally {
      vi.useRealTimers();
    }
  });

  it('retries a documented error response with backoff, logs it, and does not throw', async () => {
    agent = await fakeAgent();
    agent.failNext = 2;
    const p = protection();
    expect(() => p.setBusy(1)).not.toThrow();
    await until(() => agent.puts.length === 3);
    expect(agent.puts.map((r) => r.body.ProtectionEnabled)).toEqual([true, true, true]);
    expect(logs.filter((l) => l.includes('HTTP 500 ServerException: error message'))).toHaveLength(2);
    await until(() => logs.some((l) => l.startsWith('task protection on')));
  });

  it('logs an unreachable agent without throwing', async () => {
    agent = await fakeAgent();
    const deadUri = agent.uri;
    await agent.close();
    const p = protection({ agentUri: deadUri, retryBaseMs: 1_000, requestTimeoutMs: 500 });
    expect(() => p.setBusy(1)).not.toThrow();
    await until(() => logs.some((l) => l.includes('enable failed')));
    agent = await fakeAgent(); // for afterEach
  });

  it('on drain keeps protection while sessions run, then drops it at once (no debounce)', async () => {
    agent = await fakeAgent();
    const p = protection({ idleDisableMs: 60_000 });
    p.setBusy(2);
    await until(() => agent.puts.length === 1);
    p.drain();
    p.setBusy(1);
    await sleep(50);
    expect(agent.puts).toHaveLength(1);
    p.setBusy(0);
    await until(() => agent.puts.length === 2);
    expect(agent.puts[1]?.body).toEqual({ ProtectionEnabled: false });
    await p.close(500);
    expect(agent.puts).toHaveLength(2);
  });

  it('close() drops held protection and waits for it', async () => {
    agent = await fakeAgent();
    const p = protection({ idleDisableMs: 60_000 });
    p.setBusy(1);
    await until(() => agent.puts.length === 1);
    await p.close(1_000);
    expect(agent.puts.map((r) => r.body.ProtectionEnabled)).toEqual([true, false]);
  });

  it('is a no-op without ECS_AGENT_URI', async () => {
    agent = await fakeAgent();
    let calls = 0;
    const fetchFn = (async () => {
      calls++;
      return new Response('{}');
    }) as typeof fetch;
    for (const agentUri of [undefined, '']) {
      const p = new TaskProtection({ agentUri, fetchFn, idleDisableMs: 1 });
      expect(p.enabled).toBe(false);
      p.setBusy(1);
      p.drain();
      p.setBusy(0);
      await p.close(100);
    }
    await sleep(20);
    expect(calls).toBe(0);
  });
});

describe('parseProtectionResponse', () => {
  it('reads the documented shapes', () => {
    expect(parseProtectionResponse(200, { protection: { ExpirationDate: '2024-01-01T00:00:00Z', ProtectionEnabled: true, TaskArn: TASK_ARN } })).toEqual({
      ok: true,
      expiration: '2024-01-01T00:00:00Z',
    });
    expect(parseProtectionResponse(200, { protection: { ExpirationDate: null, ProtectionEnabled: false, TaskArn: TASK_ARN } })).toEqual({ ok: true, expiration: null });
    expect(parseProtectionResponse(200, { failure: { Arn: TASK_ARN, Reason: 'TASK_NOT_VALID', Detail: 'not in a service' } })).toMatchObject({ ok: false, transient: false });
    expect(parseProtectionResponse(403, { error: { Arn: TASK_ARN, Code: 'AccessDeniedException', Message: 'no role' } })).toMatchObject({ ok: false, transient: false });
    expect(parseProtectionResponse(504, { error: { Arn: TASK_ARN, Code: 'RequestCanceled', Message: 'Timed out calling ECS Task Protection API' } })).toMatchObject({
      ok: false,
      transient: true,
    });
    expect(parseProtectionResponse(502, null)).toMatchObject({ ok: false, transient: true });
  });
});
