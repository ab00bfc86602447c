import { describe, expect, it } from 'vitest';
import { parseForm } from '../form.ts';
import { TexmlWebhookParams, toCallStatus, toPhoneCall } from './params.ts';

/** Form-encodes a documented example the way Telnyx posts it. */
const form = (fields: Record<string, string | number | boolean>) =>
  parseForm(new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString());

// The TexmlCallCompletedWebhook example from Telnyx's API reference (a subset of its fields).
const COMPLETED = {
  AccountSid: 'f5586561-8ff0-4291-a51b-c7dfe4139ff9',
  CallInitiatedAt: '2024-01-15T10:30:26.028Z',
  CallSid: 'v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ',
  CallSidLegacy: 'v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ',
  CallStatus: 'completed',
  CallbackSource: 'call-progress-events',
  ConnectionId: '1234567890',
  From: '+35319605860',
  SequenceNumber: 3,
  Timestamp: '2024-01-15T10:30:00Z',
  To: '+13129457420',
  CallControlId: 'v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ',
  CallDuration: '45',
  HangupCause: 'normal_clearing',
  HangupSource: 'caller',
  ShakenStirValidated: true,
};

// The instruction-fetch example from Telnyx's "TeXML instruction fetching" page: the parameters
// always sent, no Direction.
const INSTRUCTION_FETCH = {
  AccountSid: '6a9a7976-012e-45d2-9258-6f5dc68d861e',
  CallSid: 'fcc47bc6-e428-11ed-ad79-02420aef00b4',
  CallSidLegacy: 'fcc47bc6-e428-11ed-ad79-02420aef00b4',
  From: '+13122010091',
  To: '+13122010090',
  ConnectionId: '1568109700606592442',
  ApiVersion: '2010-04-01',
  CallStatus: 'in-progress',
};

describe('TexmlWebhookParams', () => {
  it('parses the documented completed callback, keeping the fields it does not check', () => {
    const p = TexmlWebhookParams.parse(form(COMPLETED));
    expect(p.CallSid).toBe(COMPLETED.CallSid);
    expect(p.CallStatus).toBe('completed');
    expect(p['HangupCause']).toBe('normal_clearing');
    expect(toPhoneCall(p)).toEqual({
      provider: 'telnyx',
      callSid: 'v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ',
      from: '+35319605860',
      to: '+13129457420',
      direction: 'inbound',
    });
    expect(toCallStatus(p)).toBe('completed');
  });

  it('parses the documented instruction fetch (no Direction: inbound)', () => {
    const p = TexmlWebhookParams.parse(form(INSTRUCTION_FETCH));
    expect(toPhoneCall(p)).toEqual({
      provider: 'telnyx',
      callSid: 'fcc47bc6-e428-11ed-ad79-02420aef00b4',
      from: '+13122010091',
      to: '+13122010090',
      direction: 'inbound',
    });
    expect(toCallStatus(p)).toBe('other');
  });

  it('maps Direction outbound* to outbound, anything else to inbound', () => {
    const dir = (Direction: string) => toPhoneCall(TexmlWebhookParams.parse(form({ ...INSTRUCTION_FETCH, Direction }))).direction;
    expect(dir('outbound-api')).toBe('outbound');
    expect(dir('outbound-dial')).toBe('outbound');
    expect(dir('outbound')).toBe('outbound');
    expect(dir('inbound')).toBe('inbound');
    expect(dir('')).toBe('inbound');
  });

  it('refuses a body without CallSid, From or To, or with a repeated CallSid', () => {
    for (const missing of ['CallSid', 'From', 'To'] as const) {
      const { [missing]: _, ...rest } = INSTRUCTION_FETCH;
      expect(TexmlWebhookParams.safeParse(form(rest)).success).toBe(false);
    }
    expect(TexmlWebhookParams.safeParse(form({ ...INSTRUCTION_FETCH, CallSid: '' })).success).toBe(false);
    expect(TexmlWebhookParams.safeParse(form({ ...INSTRUCTION_FETCH, CallSid: 'v3:'.padEnd(257, 'x') })).success).toBe(false);
    const repeated = parseForm(`${new URLSearchParams(INSTRUCTION_FETCH).toString()}&CallSid=v3:other`);
    expect(TexmlWebhookParams.safeParse(repeated).success).toBe(false);
  });
});

describe('toCallStatus', () => {
  it('passes the terminal states through and maps the rest to other', () => {
    for (const s of ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const) expect(toCallStatus({ CallStatus: s })).toBe(s);
    for (const s of ['initiated', 'ringing', 'in-progress', 'queued', 'cancelled', 'COMPLETED', '']) expect(toCallStatus({ CallStatus: s })).toBe('other');
    expect(toCallStatus({})).toBe('other');
  });
});
