import { describe, expect, it } from 'vitest';
import { parseForm } from '../form.ts';
import { parseResponse } from '../markup.test-support.ts';
import { dialOutcome } from './params.ts';
import { plivoMarkup } from './plivo-xml.ts';

const NASTY = `a&b<c>d"e'f]]>g\th\ni\rj ü 🙂`;

describe('plivoMarkup.dial', () => {
  it('speaks the message, then dials one number (without +) with action, POST, timeout and callerId', () => {
    const root = parseResponse(
      plivoMarkup.dial({ to: '+14155550100', callerId: '+14155550111', action: 'https://edge.example/plivo/dial?leg=1&s=2', timeoutS: 25, message: 'Connecting you.' }),
    );
    expect(root.children.map((e) => e.tag)).toEqual(['Speak', 'Dial']);
    expect(root.children[0]!.text).toBe('Connecting you.');
    const dial = root.children[1]!;
    expect(dial.attrs).toEqual({ action: 'https://edge.example/plivo/dial?leg=1&s=2', method: 'POST', timeout: '25', callerId: '14155550111' });
    expect(dial.children).toEqual([{ tag: 'Number', attrs: {}, text: '14155550100', children: [] }]);
  });

  it('has no <Speak> without a message, no callerId without one, and keeps a number already without +', () => {
    const root = parseResponse(plivoMarkup.dial({ to: '14155550100', action: 'https://e/a', timeoutS: 30, message: '' }));
    expect(root.children.map((e) => e.tag)).toEqual(['Dial']);
    expect(root.children[0]!.attrs).toEqual({ action: 'https://e/a', method: 'POST', timeout: '30' });
    expect(root.children[0]!.children[0]!.text).toBe('14155550100');
  });

  it('escapes every value, so caller text round-trips and cannot add markup', () => {
    const root = parseResponse(plivoMarkup.dial({ to: `1<Hangup/>`, callerId: NASTY, action: `https://e/a?${NASTY}`, timeoutS: 30, message: NASTY }));
    expect(root.children.map((e) => e.tag)).toEqual(['Speak', 'Dial']);
    expect(root.children[0]!.text).toBe(NASTY);
    expect(root.children[1]!.attrs.callerId).toBe(NASTY);
    expect(root.children[1]!.attrs.action).toBe(`https://e/a?${NASTY}`);
    expect(root.children[1]!.children.map((e) => [e.tag, e.text])).toEqual([['Number', '1<Hangup/>']]);
  });

  it('clamps the timeout to 1..600 s', () => {
    const timeout = (timeoutS: number) => parseResponse(plivoMarkup.dial({ to: '1', action: 'https://e/a', timeoutS })).children[0]!.attrs.timeout;
    expect(timeout(0)).toBe('1');
    expect(timeout(601)).toBe('600');
    expect(timeout(Number.NaN)).toBe('30');
  });
});

describe('plivo dialOutcome', () => {
  const outcome = (fields: Record<string, string>) => dialOutcome(parseForm(new URLSearchParams(fields).toString()));

  it('maps each documented DialStatus', () => {
    expect(outcome({ DialStatus: 'completed', DialHangupCause: 'Normal Hangup' })).toBe('completed');
    expect(outcome({ DialStatus: 'busy' })).toBe('busy');
    expect(outcome({ DialStatus: 'no-answer' })).toBe('no-answer');
    expect(outcome({ DialStatus: 'failed' })).toBe('failed');
    expect(outcome({ DialStatus: 'timeout' })).toBe('no-answer');
    expect(outcome({ DialStatus: 'cancel' })).toBe('canceled');
    expect(plivoMarkup.dialOutcome({ DialStatus: 'busy' })).toBe('busy');
  });

  it('refines failed and timeout by DialHangupCause, in either spelling', () => {
    expect(outcome({ DialStatus: 'failed', DialHangupCause: 'Busy Line' })).toBe('busy');
    expect(outcome({ DialStatus: 'failed', DialHangupCause: 'USER_BUSY' })).toBe('busy');
    expect(outcome({ DialStatus: 'failed', DialHangupCause: 'No Answer' })).toBe('no-answer');
    expect(outcome({ DialStatus: 'failed', DialHangupCause: 'Canceled' })).toBe('canceled');
    expect(outcome({ DialStatus: 'failed', DialHangupCause: 'Invalid Destination Address' })).toBe('failed');
    expect(outcome({ DialStatus: 'timeout', DialHangupCause: 'Ring Timeout Reached' })).toBe('no-answer');
    expect(outcome({ DialStatus: 'timeout', DialHangupCause: 'ORIGINATOR_CANCEL' })).toBe('canceled');
    // The cause does not override a clear status.
    expect(outcome({ DialStatus: 'completed', DialHangupCause: 'Busy Line' })).toBe('completed');
  });

  it('is failed for junk or a missing status', () => {
    expect(outcome({ DialStatus: 'ringing' })).toBe('failed');
    expect(outcome({ DialHangupCause: 'Busy Line' })).toBe('failed');
    expect(outcome({})).toBe('failed');
  });
});
