import { describe, expect, it } from 'vitest';
import { parseForm } from '../form.ts';
import { parseResponse } from '../markup.test-support.ts';
import { dialOutcome } from './params.ts';
import { twiml } from './twiml.ts';

const NASTY = `a&b<c>d"e'f]]>g\th\ni\rj ü 🙂`;

describe('twiml.dial', () => {
  it('says the message, then dials one number with action, POST, timeout and callerId', () => {
    const root = parseResponse(
      twiml.dial({ to: '+15550002222', callerId: '+15550001111', action: 'https://edge.example/twilio/dial?leg=1&s=2', timeoutS: 25, message: 'Connecting you.' }),
    );
    expect(root.children.map((e) => e.tag)).toEqual(['Say', 'Dial']);
    expect(root.children[0]!.text).toBe('Connecting you.');
    const dial = root.children[1]!;
    expect(dial.attrs).toEqual({ action: 'https://edge.example/twilio/dial?leg=1&s=2', method: 'POST', timeout: '25', callerId: '+15550001111' });
    expect(dial.children).toEqual([{ tag: 'Number', attrs: {}, text: '+15550002222', children: [] }]);
  });

  it('has no <Say> without a message and no callerId without one', () => {
    for (const message of [undefined, '']) {
      const root = parseResponse(twiml.dial({ to: '+15550002222', action: 'https://e/a', timeoutS: 30, message }));
      expect(root.children.map((e) => e.tag)).toEqual(['Dial']);
      expect(root.children[0]!.attrs).toEqual({ action: 'https://e/a', method: 'POST', timeout: '30' });
    }
  });

  it('escapes every value, so caller text round-trips and cannot add markup', () => {
    const xml = twiml.dial({ to: `+1<Hangup/>${NASTY}`, callerId: NASTY, action: `https://e/a?x="1"&${NASTY}`, timeoutS: 30, message: NASTY });
    const root = parseResponse(xml);
    expect(root.children.map((e) => e.tag)).toEqual(['Say', 'Dial']);
    expect(root.children[0]!.text).toBe(NASTY);
    const dial = root.children[1]!;
    expect(dial.attrs.callerId).toBe(NASTY);
    expect(dial.attrs.action).toBe(`https://e/a?x="1"&${NASTY}`);
    expect(dial.children.map((e) => e.tag)).toEqual(['Number']);
    expect(dial.children[0]!.text).toBe(`+1<Hangup/>${NASTY}`);
  });

  it("clamps the timeout to Twilio's 5..600 s and rounds it; a non-number is 30", () => {
    const timeout = (timeoutS: number) => parseResponse(twiml.dial({ to: '+1', action: 'https://e/a', timeoutS })).children[0]!.attrs.timeout;
    expect(timeout(1)).toBe('5');
    expect(timeout(10_000)).toBe('600');
    expect(timeout(12.6)).toBe('13');
    expect(timeout(Number.NaN)).toBe('30');
    expect(timeout(Number.POSITIVE_INFINITY)).toBe('30');
  });
});

describe('twilio dialOutcome', () => {
  const outcome = (fields: Record<string, string>) => dialOutcome(parseForm(new URLSearchParams(fields).toString()));

  it('maps each documented DialCallStatus', () => {
    expect(outcome({ DialCallStatus: 'completed' })).toBe('completed');
    expect(outcome({ DialCallStatus: 'answered' })).toBe('completed');
    expect(outcome({ DialCallStatus: 'busy' })).toBe('busy');
    expect(outcome({ DialCallStatus: 'no-answer' })).toBe('no-answer');
    expect(outcome({ DialCallStatus: 'failed' })).toBe('failed');
    expect(outcome({ DialCallStatus: 'canceled' })).toBe('canceled');
  });

  it('ignores case and spaces, takes the first of repeated values, and reads twiml.dialOutcome the same', () => {
    expect(outcome({ DialCallStatus: ' Busy ' })).toBe('busy');
    expect(dialOutcome(parseForm('DialCallStatus=no-answer&DialCallStatus=completed'))).toBe('no-answer');
    expect(twiml.dialOutcome({ DialCallStatus: 'canceled' })).toBe('canceled');
  });

  it('is failed for junk, an empty or a missing status', () => {
    expect(outcome({ DialCallStatus: 'ringing' })).toBe('failed');
    expect(outcome({ DialCallStatus: '' })).toBe('failed');
    expect(outcome({ CallStatus: 'completed' })).toBe('failed');
    expect(dialOutcome(parseForm('__proto__=x&constructor=y'))).toBe('failed');
  });
});
