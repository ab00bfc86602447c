import { describe, expect, it } from 'vitest';
import { texmlMarkup } from './texml.ts';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

/** Undoes the five predefined entities and numeric references (the inverse of our escaping). */
function unescapeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCharCode(Number(e.slice(1))),
  );
}

/** Well-formedness for our flat output: only known tags, no raw `<`/`&` outside markup, balanced. */
function assertWellFormed(xml: string) {
  expect(xml.startsWith(DECL)).toBe(true);
  const body = xml.slice(DECL.length);
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z]+)((?:\s+[A-Za-z]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos|#\d+);[^"<&]*)*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = token.exec(body))) {
    consumed = token.lastIndex;
    const [, close, name, , selfClose, text] = m;
    if (text !== undefined) {
      expect(text.replace(/&(?:amp|lt|gt|quot|apos|#\d+);/g, '')).not.toMatch(/&/);
    } else if (close) {
      expect(stack.pop()).toBe(name);
    } else if (!selfClose) {
      stack.push(name!);
    }
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
}

const attr = (xml: string, tag: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${tag}\\b[^>]*\\b${name}="([^"]*)"`, 'g'))].map((m) => unescapeXml(m[1]!));
const text = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}\\b[^>]*>([^<]*)</${tag}>`, 'g'))].map((m) => unescapeXml(m[1]!));

const NASTY = `a&b<c>d"e'f]]>g\th\ni\rj ü 🙂`;

describe('texmlMarkup', () => {
  it('is text/xml', () => {
    expect(texmlMarkup.contentType).toBe('text/xml');
  });

  it('connect: a two-way wideband (L16 16 kHz) stream inside <Connect>, then a POST redirect to the action', () => {
    expect(
      texmlMarkup.connect({
        streamUrl: 'wss://edge.example/telnyx/media/ph_1/t.k',
        parameters: { sessionId: 'ph_1', token: 't.k' },
        action: 'https://edge.example/telnyx/voice',
      }),
    ).toBe(
      `${DECL}<Response><Connect>` +
        `<Stream url="wss://edge.example/telnyx/media/ph_1/t.k" track="inbound_track" codec="L16" bidirectionalMode="rtp" bidirectionalCodec="L16" bidirectionalSamplingRate="16000">` +
        `<Parameter name="sessionId" value="ph_1"/><Parameter name="token" value="t.k"/></Stream></Connect>` +
        `<Redirect method="POST">https://edge.example/telnyx/voice</Redirect></Response>`,
    );
  });

  it('connect: without parameters or action', () => {
    expect(texmlMarkup.connect({ streamUrl: 'wss://e.example/s', parameters: {}, action: '' })).toBe(
      `${DECL}<Response><Connect><Stream url="wss://e.example/s" track="inbound_track" codec="L16" bidirectionalMode="rtp" bidirectionalCodec="L16" bidirectionalSamplingRate="16000"></Stream></Connect></Response>`,
    );
  });

  it('connect: escapes URL, names, values and action, which parse back unchanged', () => {
    const parameters = { sessionId: NASTY, [`n"<&>`]: 'v&v', token: '' };
    const action = 'https://e.example/telnyx/voice?a=1&b="2"<3>';
    const xml = texmlMarkup.connect({ streamUrl: 'wss://e.example/m?x="1"&y=<2>', parameters, action });
    assertWellFormed(xml);
    expect(attr(xml, 'Stream', 'url')).toEqual(['wss://e.example/m?x="1"&y=<2>']);
    expect(attr(xml, 'Parameter', 'name')).toEqual(Object.keys(parameters));
    expect(attr(xml, 'Parameter', 'value')).toEqual(Object.values(parameters));
    expect(text(xml, 'Redirect')).toEqual([action]);
  });

  it('hold: say, a one-second pause, a POST redirect; no <Say> when the message is empty', () => {
    expect(texmlMarkup.hold({ message: 'Please hold.', redirectUrl: 'https://edge.example/telnyx/voice' })).toBe(
      `${DECL}<Response><Say>Please hold.</Say><Pause length="1"/><Redirect method="POST">https://edge.example/telnyx/voice</Redirect></Response>`,
    );
    expect(texmlMarkup.hold({ message: '', redirectUrl: 'https://edge.example/telnyx/voice' })).toBe(
      `${DECL}<Response><Pause length="1"/><Redirect method="POST">https://edge.example/telnyx/voice</Redirect></Response>`,
    );
    const xml = texmlMarkup.hold({ message: NASTY, redirectUrl: 'https://e.example/v?a=1&b=<2>' });
    assertWellFormed(xml);
    expect(text(xml, 'Say')).toEqual([NASTY]);
    expect(text(xml, 'Redirect')).toEqual(['https://e.example/v?a=1&b=<2>']);
  });

  it('hangup and goodbye', () => {
    expect(texmlMarkup.hangup()).toBe(`${DECL}<Response><Hangup/></Response>`);
    expect(texmlMarkup.goodbye('Goodbye.')).toBe(`${DECL}<Response><Say>Goodbye.</Say><Hangup/></Response>`);
    const xml = texmlMarkup.goodbye(NASTY);
    assertWellFormed(xml);
    expect(text(xml, 'Say')).toEqual([NASTY]);
    expect(xml.endsWith('<Hangup/></Response>')).toBe(true);
  });
});
