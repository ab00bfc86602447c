import { SELF } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorBody } from '@switchboard/protocol';

/**
 * Property-based fuzzing of the public routes inside workerd: whatever a stranger sends (body,
 * content type, session id), the edge answers with a 4xx and a JSON error (Twilio routes: a 403
 * text), never a 5xx and never a crash.
 */

const EDGE = 'http://edge.test';
const contentType = fc.oneof(
  fc.constantFrom('application/sdp', 'application/trickle-ice-sdpfrag', 'application/json', 'text/plain', ''),
  fc.string({ maxLength: 40 }),
);
const body = fc.oneof(fc.string({ maxLength: 500 }), fc.string({ unit: 'binary', maxLength: 500 }));
const sessionId = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.stringMatching(/^s_[0-9a-f]{32}$/),
  fc.stringMatching(/^c_CA[0-9a-f]{32}$/),
);

async function expectClientError(res: Response): Promise<void> {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  if (res.headers.get('Content-Type')?.startsWith('application/json')) ErrorBody.parse(await res.json());
  else await res.arrayBuffer();
}

const RUNS = { numRuns: 60 };

describe('public routes under fuzzing', () => {
  it('POST /v1/sessions with any body that is not an offer answers 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(body, contentType, async (b, type) => {
        // A body that happened to be a valid offer would wait for a worker; arbitrary text never is.
        fc.pre(!b.startsWith('v=0'));
        const res = await SELF.fetch(`${EDGE}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': type }, body: b });
        await expectClientError(res);
      }),
      RUNS,
    );
  });

  it('PATCH, DELETE, status and resume of any session id answer 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(sessionId, body, contentType, async (id, b, type) => {
        const base = `${EDGE}/v1/sessions/${id}`;
        await expectClientError(await SELF.fetch(base, { method: 'PATCH', headers: { 'Content-Type': type }, body: b }));
        await expectClientError(await SELF.fetch(base, { method: 'DELETE' }));
        await expectClientError(await SELF.fetch(`${base}/status`));
        fc.pre(!b.startsWith('v=0'));
        await expectClientError(await SELF.fetch(`${base}/resume`, { method: 'POST', headers: { 'Content-Type': type }, body: b }));
      }),
      RUNS,
    );
  });

  it('unsigned Twilio webhooks with any form body answer 403', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('/twilio/voice', '/twilio/status'), async (b, path) => {
        const res = await SELF.fetch(`${EDGE}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': 'bm90IGEgc2lnbmF0dXJl' },
          body: b,
        });
        expect(res.status).toBe(403);
        await res.arrayBuffer();
      }),
      RUNS,
    );
  });

  it('POST /v1/calls and /v1/tokens with any JSON-ish body answer 4xx or succeed, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(body, fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? '')), async (b) => {
        const res = await SELF.fetch(`${EDGE}/v1/calls`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer key-one' },
          body: b,
        });
        // A body that names a valid number places a (fake) call: 201. Anything else: 4xx.
        expect(res.status === 201 || (res.status >= 400 && res.status < 500)).toBe(true);
        await res.arrayBuffer();
      }),
      RUNS,
    );
  });
});
