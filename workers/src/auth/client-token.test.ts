import { describe, expect, it } from 'vitest';
import { ANONYMOUS_SUBJECT_PREFIX, mintClientToken, verifyClientToken } from './client-token.ts';

const SECRET = 'unit-token-secret';

describe('client tokens', () => {
  it('carry the identity as their subject', async () => {
    const { token } = await mintClientToken(SECRET, 'alice', 60_000);
    expect(await verifyClientToken(SECRET, token)).toEqual({ subject: 'alice' });
  });

  it('minted without an identity get distinct random subjects', async () => {
    const subjects = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { token } = await mintClientToken(SECRET, undefined, 60_000);
      const v = await verifyClientToken(SECRET, token);
      expect(v?.subject.startsWith(ANONYMOUS_SUBJECT_PREFIX)).toBe(true);
      expect(v?.subject).not.toBe('anonymous');
      subjects.add(v!.subject);
    }
    expect(subjects.size).toBe(20);
  });

  it('are refused when signed with another secret, expired, or not JWTs', async () => {
    const { token } = await mintClientToken('other-secret', 'bob', 60_000);
    expect(await verifyClientToken(SECRET, token)).toBeNull();
    const old = await mintClientToken(SECRET, 'bob', 1000, Date.now() - 10_000);
    expect(await verifyClientToken(SECRET, old.token)).toBeNull();
    expect(await verifyClientToken(SECRET, 'not.a.jwt')).toBeNull();
  });
});
