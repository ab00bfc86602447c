import { env, SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { CallResponse } from '@switchboard/protocol';
import { drainQueue, nextJob } from './support/sqs.ts';

beforeEach(drainQueue);

const call = (body: string, contentType = 'application/json') =>
  SELF.fetch('http://edge.test/v1/calls', { method: 'POST', headers: { 'Content-Type': contentType }, body });

describe('POST /v1/calls', () => {
  it('places the call through Twilio (Calls.json) and queues its session', async () => {
    const res = await call(JSON.stringify({ to: '+15551230000' }));
    expect(res.status).toBe(201);
    const { sessionId, callSid } = CallResponse.parse(await res.json());
    expect(sessionId).toBe(`c_${callSid}`);
    const job = await nextJob(sessionId);
    expect(job.kind).toBe('phone');
    const seen = (await (await fetch(`${env.TWILIO_API_BASE}/__requests`)).json()) as { path: string; authorization: string; form: [string, string][] }[];
    const last = seen.at(-1)!;
    expect(last.path).toBe('/2010-04-01/Accounts/AC00000000000000000000000000000000/Calls.json');
    expect(last.authorization).toBe('Basic ' + btoa('AC00000000000000000000000000000000:test-twilio-auth-token'));
    const form = new Map<string, string[]>();
    for (const [k, v] of last.form) form.set(k, [...(form.get(k) ?? []), v]);
    expect(form.get('To')).toEqual(['+15551230000']);
    expect(form.get('From')).toEqual(['+15550001111']);
    expect(form.get('Url')).toEqual(['http://127.0.0.1:8787/twilio/voice']);
    expect(form.get('StatusCallback')).toEqual(['http://127.0.0.1:8787/twilio/status']);
    expect(form.get('StatusCallbackEvent')?.sort()).toEqual(['answered', 'completed', 'initiated', 'ringing']);
    const st = await (await SELF.fetch(`http://edge.test/v1/sessions/${sessionId}/status`)).json<{ state: string; kind: string; callSid: string }>();
    expect(st).toMatchObject({ state: 'queued', kind: 'phone', callSid });
  });

  it('rejects bad requests (400, 415) and passes Twilio\'s own refusal through as 400', async () => {
    expect((await call('{"to":"12"}')).status).toBe(400);
    expect((await call('{"to":"+15551230000","extra":1}')).status).toBe(400);
    expect((await call('to=+1555', 'application/x-www-form-urlencoded')).status).toBe(415);
    const refused = await call(JSON.stringify({ to: '+15005550001' }));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { message: expect.stringContaining('not a valid phone number') } });
  });
});
