import { describe, expect, it } from 'vitest';
import { MAX_STATE_BYTES } from '@switchboard/protocol';
import { CONTROL_GRACE_MS, nextDeadline, REQUEUE_RESEND_MS, RESUME_WINDOW_MS, type SessionRecord } from './record.ts';
import { checkpointProblem, decideResume } from './resume-decision.ts';

const T0 = 1_000_000;
const live: SessionRecord = {
  id: `s_${'a'.repeat(32)}`,
  kind: 'webrtc',
  state: 'live',
  createdAt: T0,
  jobExpiresAt: T0 + 10_000,
  endsAt: T0 + 3_600_000,
  workerId: 'w1',
  answer: 'v=0',
  etag: '"e"',
};
const at = (now: number, controlOpen = false, resuming = false) => ({ now, controlOpen, resuming });

describe('decideResume', () => {
  it('forwards to an open control socket and re-queues a lost worker within the window', () => {
    expect(decideResume(live, at(T0, true))).toEqual({ kind: 'forward' });
    const lost = { ...live, controlLostAt: T0 };
    expect(decideResume(lost, at(T0 + CONTROL_GRACE_MS + 1))).toEqual({ kind: 'takeover' });
    expect(decideResume(lost, at(T0 + RESUME_WINDOW_MS - 1))).toEqual({ kind: 'takeover' });
  });

  it('refuses after the window (410, ending the session) and after the time limit', () => {
    const lost = { ...live, controlLostAt: T0 };
    expect(decideResume(lost, at(T0 + RESUME_WINDOW_MS))).toMatchObject({ status: 410, code: 'gone', endLost: true });
    expect(decideResume({ ...lost, endsAt: T0 + 1000 }, at(T0 + 1000))).toMatchObject({ status: 410 });
    // A takeover job still out keeps the session until it expires, though no new resume is taken.
    const requeued = { ...lost, requeuedAt: T0 + 29_000, jobExpiresAt: T0 + 39_000 };
    expect(decideResume(requeued, at(T0 + RESUME_WINDOW_MS))).toMatchObject({ status: 410, endLost: false });
  });

  it('refuses phone sessions, ended sessions, unanswered sessions and a second resume at once', () => {
    expect(decideResume({ ...live, kind: 'phone' }, at(T0, true))).toMatchObject({ status: 409 });
    expect(decideResume({ ...live, state: 'ended', reason: 'client_hangup' }, at(T0))).toMatchObject({ status: 410 });
    const { answer: _a, ...unanswered } = live;
    expect(decideResume({ ...unanswered, state: 'claimed' }, at(T0, true))).toMatchObject({ status: 409 });
    expect(decideResume({ ...live, state: 'queued' }, at(T0, true))).toMatchObject({ status: 409 });
    expect(decideResume(live, at(T0, true, true))).toMatchObject({ status: 409 });
  });
});

describe('nextDeadline of a session whose worker was lost', () => {
  it('gives a phone call CONTROL_GRACE_MS and a WebRTC session RESUME_WINDOW_MS', () => {
    expect(nextDeadline({ ...live, controlLostAt: T0 })).toBe(T0 + RESUME_WINDOW_MS);
    expect(nextDeadline({ ...live, kind: 'phone', controlLostAt: T0 })).toBe(T0 + CONTROL_GRACE_MS);
    expect(nextDeadline({ ...live, controlLostAt: T0, endsAt: T0 + 100 })).toBe(T0 + 100);
  });

  it('re-sends a re-queued job until it expires, and a late resume keeps its claim time past the window', () => {
    const requeued = { ...live, controlLostAt: T0, requeuedAt: T0 + 2000, jobExpiresAt: T0 + 12_000 };
    expect(nextDeadline(requeued)).toBe(T0 + 2000 + REQUEUE_RESEND_MS);
    expect(nextDeadline({ ...requeued, requeuedAt: T0 + 11_500 })).toBe(T0 + 12_000);
    const late = { ...live, controlLostAt: T0, requeuedAt: T0 + 29_900, jobExpiresAt: T0 + 39_900 };
    expect(nextDeadline({ ...late, requeuedAt: T0 + 39_500 })).toBe(T0 + 39_900);
  });
});

describe('checkpointProblem', () => {
  it('keeps JSON text up to MAX_STATE_BYTES of UTF-8 and refuses the rest', () => {
    expect(checkpointProblem('{"a":1}')).toBeNull();
    expect(checkpointProblem(JSON.stringify('x'.repeat(MAX_STATE_BYTES - 2)))).toBeNull();
    expect(checkpointProblem(JSON.stringify('x'.repeat(MAX_STATE_BYTES - 1)))).toContain('bytes');
    expect(checkpointProblem('{"a":')).toContain('not JSON');
  });
});
