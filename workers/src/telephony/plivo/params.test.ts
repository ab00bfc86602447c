import { PhoneCall } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { parseForm } from '../form.ts';
import { plivoCallId, PlivoCallParams, toCallStatus, toPhoneCall } from './params.ts';

const REQUEST_UUID = '9834029e-58b6-11e1-b8b7-a5bd0e4e126f';
const CALL_UUID = '3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36';

/** A form body as Plivo posts it (parameter names from Plivo's XML request documentation). */
const form = (fields: Record<string, string>) => parseForm(new URLSearchParams(fields).toString());

describe('PlivoCallParams', () => {
  it('parses an inbound answer request, keeping unknown parameters', () => {
    const p = PlivoCallParams.parse(
      form({ CallUUID: CALL_UUID, From: '14155550111', To: '14155550100', Direction: 'inbound', CallStatus: 'ringing', CallerName: 'x' }),
    );
    expect(p).toMatchObject({ CallUUID: CALL_UUID, From: '14155550111', To: '14155550100', Direction: 'inbound', CallStatus: 'ringing' });
    expect(toPhoneCall(p)).toEqual({ provider: 'plivo', callSid: CALL_UUID, from: '14155550111', to: '14155550100', direction: 'inbound' });
    expect(PhoneCall.parse(toPhoneCall(p))).toEqual(toPhoneCall(p));
  });

  it('refuses a request without a usable id, an unknown direction, or a repeated parameter', () => {
    expect(PlivoCallParams.safeParse(form({ From: '1', To: '2', Direction: 'inbound' })).success).toBe(false);
    expect(PlivoCallParams.safeParse(form({ CallUUID: '', Direction: 'inbound' })).success).toBe(false);
    expect(PlivoCallParams.safeParse(form({ CallUUID: CALL_UUID, Direction: 'sideways' })).success).toBe(false);
    expect(PlivoCallParams.safeParse(form({ CallUUID: CALL_UUID })).success).toBe(false);
    expect(PlivoCallParams.safeParse(parseForm(`CallUUID=a&CallUUID=b&Direction=inbound`)).success).toBe(false);
    expect(PlivoCallParams.safeParse(form({ CallUUID: 'x'.repeat(257), Direction: 'inbound' })).success).toBe(false);
  });
});

describe('the stable call id', () => {
  it('an outbound call maps to the request_uuid placeCall returned, in every webhook', () => {
    // Answer request (current platform: RequestUUID and ALegRequestUUID both present).
    const answer = PlivoCallParams.parse(
      form({ CallUUID: CALL_UUID, RequestUUID: REQUEST_UUID, ALegRequestUUID: REQUEST_UUID, ALegUUID: CALL_UUID, Direction: 'outbound', CallStatus: 'in-progress', From: '1', To: '2' }),
    );
    // Answer or redirect request carrying only ALegRequestUUID.
    const redirect = PlivoCallParams.parse(form({ CallUUID: CALL_UUID, ALegRequestUUID: REQUEST_UUID, Direction: 'outbound', CallStatus: 'in-progress' }));
    // Hang-up of a call that never connected: no CallUUID, RequestUUID only.
    const unanswered = PlivoCallParams.parse(form({ CallUUID: '', RequestUUID: REQUEST_UUID, Direction: 'outbound', CallStatus: 'no-answer', HangupCause: 'NO_ANSWER' }));
    for (const p of [answer, redirect, unanswered]) expect(plivoCallId(p)).toBe(REQUEST_UUID);
    expect(toPhoneCall(answer)).toEqual({ provider: 'plivo', callSid: REQUEST_UUID, from: '1', to: '2', direction: 'outbound' });
  });

  it('falls back to CallUUID for an outbound call without request ids, and ignores them inbound', () => {
    expect(plivoCallId(PlivoCallParams.parse(form({ CallUUID: CALL_UUID, Direction: 'outbound' })))).toBe(CALL_UUID);
    expect(plivoCallId(PlivoCallParams.parse(form({ CallUUID: CALL_UUID, RequestUUID: REQUEST_UUID, Direction: 'inbound' })))).toBe(CALL_UUID);
    expect(plivoCallId(PlivoCallParams.parse(form({ CallUUID: CALL_UUID, Direction: 'OUTBOUND' })))).toBe(CALL_UUID);
  });
});

describe('toCallStatus', () => {
  it("maps Plivo's documented CallStatus values", () => {
    const cases: Array<[string, string]> = [
      ['completed', 'completed'],
      ['busy', 'busy'],
      ['failed', 'failed'],
      ['timeout', 'failed'],
      ['no-answer', 'no-answer'],
      ['cancel', 'canceled'],
      ['ringing', 'other'],
      ['in-progress', 'other'],
      ['', 'other'],
      ['something-new', 'other'],
      ['COMPLETED', 'completed'],
    ];
    for (const [plivo, ours] of cases) expect([plivo, toCallStatus({ CallStatus: plivo })]).toEqual([plivo, ours]);
  });
});
