import { describe, expect, it } from 'vitest';
import { mintControlToken, verifyControlToken } from './control-token.ts';

const ID = `s_${'ab'.repeat(16)}`;

describe('control tokens', () => {
  it('verifies a token minted for the same session and secret until it expires', async () => {
    const t = await mintControlToken('secret', ID, 10_000);
    expect(await verifyControlToken('secret', ID, t, 9_999)).toEqual({ ok: true, expiresAt: 10_000 });
    expect(await verifyControlToken('secret', ID, t, 10_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses another secret, another session, a moved expiry, and garbage', async () => {
    const t = await mintControlToken('secret', ID, 10_000);
    expect(await verifyControlToken('other', ID, t, 0)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await verifyControlToken('secret', `s_${'cd'.repeat(16)}`, t, 0)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await verifyControlToken('secret', ID, t.replace(/^10000/, '99999'), 0)).toEqual({ ok: false, reason: 'bad_signature' });
    for (const bad of ['', 'x', '10000.', '10000.***', 'abc.defghijklmnopqrstu']) {
      expect((await verifyControlToken('secret', ID, bad, 0)).ok).toBe(false);
    }
  });

  it('reads a forged expired token as forged, not expired', async () => {
    const t = await mintControlToken('other', ID, 5);
    expect(await verifyControlToken('secret', ID, t, 10)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
