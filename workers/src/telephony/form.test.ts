import { describe, expect, it } from 'vitest';
import { parseForm } from './form.ts';

describe('parseForm', () => {
  it('parses a Twilio voice webhook body', () => {
    const body =
      'AccountSid=AC00000000000000000000000000000000&ApiVersion=2010-04-01&CallSid=CA0123456789abcdef0123456789abcdef' +
      '&CallStatus=ringing&Called=%2B15550001111&Caller=%2B15550002222&Direction=inbound&From=%2B15550002222&To=%2B15550001111';
    const p = parseForm(body);
    expect(p.From).toBe('+15550002222');
    expect(p.CallSid).toBe('CA0123456789abcdef0123456789abcdef');
    expect(Object.keys(p)).toHaveLength(9);
  });

  it('keeps repeated keys as arrays in order, single keys as strings', () => {
    expect({ ...parseForm('a=1&b=x&a=2&a=1&c=') }).toEqual({ a: ['1', '2', '1'], b: 'x', c: '' });
  });

  it('decodes + as space, percent-escapes as UTF-8, and keeps & = inside escaped values', () => {
    expect({ ...parseForm('msg=hello+world%21&amp=%26%3D&u=%C3%BC%F0%9F%99%82&plus=%2B') }).toEqual({
      msg: 'hello world!',
      amp: '&=',
      u: 'ü🙂',
      plus: '+',
    });
  });

  it('handles empty bodies, empty pairs, names without =, and a leading ?', () => {
    expect({ ...parseForm('') }).toEqual({});
    expect({ ...parseForm('&&a=1&&') }).toEqual({ a: '1' });
    expect({ ...parseForm('flag&x=') }).toEqual({ flag: '', x: '' });
    expect({ ...parseForm('?a=1') }).toEqual({ '?a': '1' });
    expect({ ...parseForm('a=b=c') }).toEqual({ a: 'b=c' });
  });

  it('treats __proto__ and constructor as ordinary names', () => {
    const p = parseForm('__proto__=x&constructor=y&toString=z');
    expect(Object.keys(p).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(p['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(p)).toBe(null);
  });
});
