import { describe, expect, it } from 'vitest';
import { parseForm } from '../form.ts';
import { parseResponse } from '../markup.test-support.ts';
import { dialOutcome } from './params.ts';
import { texmlMarkup } from './texml.ts';

const NASTY = `a&b<c>d"e'f]]>g\th\ni\rj ü 🙂`;

describe('texmlMarkup.dial', () => {
  it('says the message, then dials one number with action, POST, timeout and callerId', () => {
    const root = parseResponse(
      texmlMarkup.dial({ to: '+15550002222', callerId: '+15550001111', action: 'https://edge.example/telnyx/dial?leg=1&s=2', timeoutS: 25, message: 'Connecting you.' }),
    );
    expect(root.children.map((e) => e.tag)).toEqual(['Say', 'Dial']);
    expect(root.children[0]!.text).toBe('Connecting you.');
    const dial = root.children[1]!;
    expect(dial.attrs).toEqual({ action: 'https://edge.example/telnyx/dial?leg=1&s=2', method: 'POST', timeout: '25', callerId: '+15550001111' });
    expect(dial.children).toEqual([{ tag: 'Number', attrs: {}, text: '+15550002222', children: [] }]);
  });

  it('has no <Say> without a message and no callerId without one', () => {
    const root = parseResponse(texmlMarkup.dial({ to: '+15550002222', action: 'https://e/a', timeoutS: 30 }));
    expect(root.children.map((e) => e.tag)).toEqual(['Dial']);
    expect(root.children[0]!.attrs).toEqual({ action: 'https://e/a', method: 'POST', timeout: '30' });
  });

  it('escapes every value, so caller text round-trips and cannot add markup', () => {
    const root = parseResponse(texmlMarkup.dial({ to: `+1</Number><Hangup/>`, callerId: NASTY, action: `https://e/a?${NASTY}`, timeoutS: 30, message: NASTY }));
    expect(root.children.map((e) => e.tag)).toEqual(['Say', 'Dial']);
    expect(root.children[0]!.text).toBe(NASTY);
    expect(root.children[1]!.attrs.callerId).toBe(NASTY);
    expect(root.children[1]!.attrs.action).toBe(`https://e/a?${NASTY}`);
    expect(root.children[1]!.children.map((e) => [e.tag, e.text])).toEqual([['Number', '+1</Number><Hangup/>']]);
  });

  it("clamps the timeout to TeXML's 5..120 s", () => {
    const timeout = (timeoutS: number) => parseResponse(texmlMarkup.dial({ to: '+1', action: 'https://e/a', timeoutS })).children[0]!.attrs.timeout;
    expect(timeout(0)).toBe('5');
    expect(timeout(300)).toBe('120');
    expect(timeout(Number.NaN)).toBe('30');
  });
});

describe('telnyx dialOutcome', () => {
  const outcome = (fields: Record<string, string>) => dialOutcome(parseForm(new URLSearchParams(fields).toString()));

  it('maps each DialCallStatus value', () => {
    expect(outcome({ DialCallStatus: 'completed' })).toBe('completed');
    expect(outcome({ DialCallStatus: 'answered' })).toBe('completed');
    expect(outcome({ DialCallStatus: 'busy' })).toBe('busy');
    expect(outcome({ DialCallStatus: 'no-answer' })).toBe('no-answer');
    expect(outcome({ DialCallStatus: 'failed' })).toBe('failed');
    expect(outcome({ DialCallStatus: 'canceled' })).toBe('canceled');
    expect(texmlMarkup.dialOutcome({ DialCallStatus: 'busy' })).toBe('busy');
  });

  it('is failed for junk or a missing status', () => {
    expect(outcome({ DialCallStatus: 'in-progress' })).toBe('failed');
    expect(outcome({ CallStatus: 'completed' })).toBe('failed');
    expect(outcome({})).toBe('failed');
  });
});
