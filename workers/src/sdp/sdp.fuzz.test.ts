import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chromeOffer } from '../../../test/fixtures/sdp.ts';
import { HttpError } from '../errors.ts';
import { parseForm } from '../telephony/form.ts';
import { validateOffer } from './offer.ts';
import { parseTrickleFragment } from './trickle.ts';

/**
 * Property-based fuzzing of the edge's text parsers: whatever a client sends, the parser returns
 * or throws a 400 HttpError (which the app turns into a JSON error), never anything that would
 * become a 500.
 */

const offer = chromeOffer();
const fragment =
  'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n' +
  'a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host\r\na=end-of-candidates\r\n';

/** A valid body with lines dropped, duplicated, cut or replaced by arbitrary text. */
function mutated(body: string) {
  const lines = body.split('\r\n');
  const edit = fc.tuple(fc.nat({ max: lines.length - 1 }), fc.constantFrom('drop', 'dup', 'cut', 'replace'), fc.string({ maxLength: 60 }), fc.nat({ max: 80 }));
  return fc
    .tuple(fc.array(edit, { maxLength: 4 }), fc.boolean())
    .map(([edits, crlf]) => {
      const out = [...lines];
      for (const [at, op, str, n] of edits) {
        const i = Math.min(at, out.length - 1);
        if (i < 0) break;
        if (op === 'drop') out.splice(i, 1);
        else if (op === 'dup') out.splice(i, 0, out[i]!);
        else if (op === 'cut') out[i] = out[i]!.slice(0, n);
        else out[i] = str;
      }
      return out.join(crlf ? '\r\n' : '\n');
    });
}

const text = (seed: string) => fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), mutated(seed));

function onlyBadRequest(run: () => unknown): 'ok' | 'rejected' {
  try {
    run();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return 'rejected';
  }
}

describe('edge parsers under fuzzing', () => {
  it('an SDP offer is accepted or refused with a 400, and what is accepted has ICE credentials', () => {
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(text(offer), (body) => {
        const outcome = onlyBadRequest(() => {
          const info = validateOffer(body);
          expect(info.ufrag.length).toBeGreaterThanOrEqual(4);
        });
        seen[outcome]++;
      }),
      { numRuns: 500 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('a trickle fragment is parsed or refused with a 400, and candidates keep their bound length', () => {
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(text(fragment), (body) => {
        seen[
          onlyBadRequest(() => {
            const f = parseTrickleFragment(body);
            for (const c of f.candidates) expect(c.candidate.startsWith('candidate:')).toBe(true);
          })
        ]++;
      }),
      { numRuns: 500 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('a webhook form body never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (body) => {
        const form = parseForm(body);
        expect(Object.getPrototypeOf(form)).toBe(null);
      }),
      { numRuns: 500 },
    );
  });
});
