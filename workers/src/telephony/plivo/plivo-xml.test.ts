import { describe, expect, it } from 'vitest';
import { extraHeaders, plivoMarkup } from './plivo-xml.ts';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

describe('plivoMarkup', () => {
  it('is served as XML', () => {
    expect(plivoMarkup.contentType).toBe('application/xml');
  });

  it('connect: a bidirectional 16 kHz L16 stream that keeps the call up, then the action', () => {
    expect(
      plivoMarkup.connect({
        streamUrl: 'wss://edge.example/plivo/media/s1?token=a.b&x=1',
        parameters: { sessionId: 'abc123', token: 'n0nce.sig-nature' },
        action: 'https://edge.example/plivo/answer?s=1&t=2',
      }),
    ).toBe(
      `${DECL}<Response>` +
        '<Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-l16;rate=16000" extraHeaders="sessionId=abc123">' +
        'wss://edge.example/plivo/media/s1?token=a.b&amp;x=1</Stream>' +
        '<Redirect method="POST">https://edge.example/plivo/answer?s=1&amp;t=2</Redirect>' +
        '</Response>',
    );
  });

  it('connect without action or usable parameters: the stream alone, no extraHeaders', () => {
    expect(plivoMarkup.connect({ streamUrl: 'wss://e/m', parameters: { 'session-id': 'x' }, action: '' })).toBe(
      `${DECL}<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-l16;rate=16000">wss://e/m</Stream></Response>`,
    );
  });

  it('hold: speak, wait, redirect (POST); no Speak for an empty message', () => {
    expect(plivoMarkup.hold({ message: 'Please hold.', redirectUrl: 'https://e/plivo/answer' })).toBe(
      `${DECL}<Response><Speak>Please hold.</Speak><Wait length="1"/><Redirect method="POST">https://e/plivo/answer</Redirect></Response>`,
    );
    expect(plivoMarkup.hold({ message: '', redirectUrl: 'https://e/a' })).toBe(
      `${DECL}<Response><Wait length="1"/><Redirect method="POST">https://e/a</Redirect></Response>`,
    );
  });

  it('hangup and goodbye', () => {
    expect(plivoMarkup.hangup()).toBe(`${DECL}<Response><Hangup/></Response>`);
    expect(plivoMarkup.goodbye('Sorry, nobody is available.')).toBe(
      `${DECL}<Response><Speak>Sorry, nobody is available.</Speak><Hangup/></Response>`,
    );
    expect(plivoMarkup.goodbye('')).toBe(`${DECL}<Response><Hangup/></Response>`);
  });

  it('escapes caller-controlled text so it cannot add elements', () => {
    const evil = 'Bye</Speak><Dial><Number>15550000000</Number></Dial><Speak>& "q" \u0001';
    const doc = plivoMarkup.goodbye(evil);
    expect(doc).toBe(
      `${DECL}<Response><Speak>Bye&lt;/Speak&gt;&lt;Dial&gt;&lt;Number&gt;15550000000&lt;/Number&gt;&lt;/Dial&gt;&lt;Speak&gt;&amp; "q" </Speak><Hangup/></Response>`,
    );
    const held = plivoMarkup.hold({ message: '<Hangup/>', redirectUrl: 'https://e/a?x=</Redirect>' });
    expect(held).toContain('<Speak>&lt;Hangup/&gt;</Speak>');
    expect(held).toContain('<Redirect method="POST">https://e/a?x=&lt;/Redirect&gt;</Redirect>');
    expect(held.match(/<Redirect /g)).toHaveLength(1);
  });
});

describe('extraHeaders', () => {
  it('keeps only alphanumeric names and values, comma-separated, within 512 bytes', () => {
    expect(extraHeaders({ a: '1', b: 'x-y', 'c.d': '2', e: 'E3' })).toBe('a=1,e=E3');
    expect(extraHeaders({})).toBe('');
    const long = extraHeaders({ a: 'x'.repeat(300), b: 'y'.repeat(300), c: 'z' });
    expect(long).toBe(`a=${'x'.repeat(300)},c=z`);
    expect(long.length).toBeLessThanOrEqual(512);
  });
});
