import { describe, expect, it } from 'vitest';
import { HttpError } from '../../errors.ts';
import { escapeXmlAttr, escapeXmlText } from '../xml.ts';
import { connectStream, goodbye, hangup, holdAndRedirect, streamUrlFromBase } from './twiml.ts';

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
      // Text may hold `&` only as an entity and never a raw `<` (the regex already excludes it).
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

describe('escaping', () => {
  it('escapes markup characters and round-trips', () => {
    expect(escapeXmlText('a&b<c>d')).toBe('a&amp;b&lt;c&gt;d');
    expect(escapeXmlAttr(`"'&<>`)).toBe('&quot;&apos;&amp;&lt;&gt;');
    expect(unescapeXml(escapeXmlAttr(NASTY))).toBe(NASTY);
    expect(unescapeXml(escapeXmlText(NASTY))).toBe(NASTY);
    expect(escapeXmlAttr('a\tb\nc\rd')).toBe('a&#9;b&#10;c&#13;d');
  });

  it('drops characters XML 1.0 cannot carry, keeps valid surrogate pairs', () => {
    expect(escapeXmlText('a\u0000b\u0001c\u001Fd\uFFFEe\uFFFF')).toBe('abcde');
    expect(escapeXmlText('x\uD800y\uDC00z')).toBe('xyz');
    expect(escapeXmlText('🙂')).toBe('🙂');
  });
});

describe('connectStream', () => {
  it('has the exact documented shape', () => {
    expect(
      connectStream({ streamUrl: 'wss://edge.example/twilio/media', parameters: { sessionId: 'ph_1', token: 't.k' } }),
    ).toBe(
      `${DECL}<Response><Connect><Stream url="wss://edge.example/twilio/media">` +
        `<Parameter name="sessionId" value="ph_1"/><Parameter name="token" value="t.k"/></Stream></Connect></Response>`,
    );
  });

  it('escapes URL, names and values, which parse back unchanged', () => {
    const parameters = { sessionId: NASTY, [`n"<&>`]: 'v&v', token: '' };
    const xml = connectStream({ streamUrl: 'wss://e.example/twilio/media?x="1"&y=<2>', parameters });
    assertWellFormed(xml);
    expect(attr(xml, 'Stream', 'url')).toEqual(['wss://e.example/twilio/media?x="1"&y=<2>']);
    expect(attr(xml, 'Parameter', 'name')).toEqual(Object.keys(parameters));
    expect(attr(xml, 'Parameter', 'value')).toEqual(Object.values(parameters));
  });

  it('works without parameters', () => {
    const xml = connectStream({ streamUrl: 'wss://e/twilio/media', parameters: {} });
    assertWellFormed(xml);
    expect(xml).toContain('<Stream url="wss://e/twilio/media"></Stream>');
  });
});

describe('holdAndRedirect and goodbye', () => {
  it('hold: Say, one-second Pause, POST Redirect', () => {
    expect(holdAndRedirect({ message: 'Please hold.', redirectUrl: 'https://e.example/twilio/voice' })).toBe(
      `${DECL}<Response><Say>Please hold.</Say><Pause length="1"/>` +
        `<Redirect method="POST">https://e.example/twilio/voice</Redirect></Response>`,
    );
    const xml = holdAndRedirect({ message: NASTY, redirectUrl: 'https://e/twilio/voice?a=1&b=<2>' });
    assertWellFormed(xml);
    expect(text(xml, 'Say')).toEqual([NASTY]);
    expect(text(xml, 'Redirect')).toEqual(['https://e/twilio/voice?a=1&b=<2>']);
  });

  it('goodbye: Say then Hangup', () => {
    expect(goodbye('Bye.')).toBe(`${DECL}<Response><Say>Bye.</Say><Hangup/></Response>`);
    const xml = goodbye('</Say><Dial>+15550001111</Dial><Say>');
    assertWellFormed(xml);
    expect(xml).not.toContain('<Dial>');
    expect(text(xml, 'Say')).toEqual(['</Say><Dial>+15550001111</Dial><Say>']);
  });
});

describe('streamUrlFromBase', () => {
  it.each([
    ['https://edge.example.com', 'wss://edge.example.com/twilio/media'],
    ['http://127.0.0.1:8787', 'ws://127.0.0.1:8787/twilio/media'],
    ['https://edge.example.com/', 'wss://edge.example.com/twilio/media'],
    ['https://edge.example.com:8443/prefix/', 'wss://edge.example.com:8443/prefix/twilio/media'],
    ['https://edge.example.com?x=1#frag', 'wss://edge.example.com/twilio/media'],
    ['HTTPS://Edge.Example.COM', 'wss://edge.example.com/twilio/media'],
  ])('%s -> %s', (base, expected) => {
    expect(streamUrlFromBase(base)).toBe(expected);
  });

  it('rejects bases that are not http(s) URLs as misconfiguration', () => {
    for (const bad of ['ftp://e.example', 'not a url', '']) {
      expect(() => streamUrlFromBase(bad)).toThrow(HttpError);
      try {
        streamUrlFromBase(bad);
      } catch (err) {
        expect((err as HttpError).status).toBe(500);
      }
    }
  });
});

describe('resilience TwiML', () => {
  it('names <Connect action> (POST) when given, escaped; none without it', () => {
    const xml = connectStream({ streamUrl: 'wss://e/twilio/media', parameters: {}, action: 'https://e/twilio/voice?a=1&b="2"' });
    expect(xml).toContain('<Connect action="https://e/twilio/voice?a=1&amp;b=&quot;2&quot;" method="POST"><Stream url="wss://e/twilio/media">');
    expect(connectStream({ streamUrl: 'wss://e/twilio/media', parameters: {} })).toContain('<Connect><Stream');
  });

  it('holds silently with an empty message, and hangs up without a word', () => {
    expect(holdAndRedirect({ message: '', redirectUrl: 'https://e/twilio/voice' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/><Redirect method="POST">https://e/twilio/voice</Redirect></Response>',
    );
    expect(hangup()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });
});
