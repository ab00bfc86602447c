import { describe, expect, it } from 'vitest';
import { serializerFor } from './index.ts';

describe('serializerFor', () => {
  it('returns the serializer of each stream kind and refuses other names', () => {
    for (const name of ['twilio', 'telnyx', 'plivo', 'stream'] as const) expect(serializerFor(name).name).toBe(name);
    expect(() => serializerFor('vonage')).toThrow(/no media serializer named "vonage"/);
    expect(() => serializerFor('toString')).toThrow(/no media serializer/);
  });
});
