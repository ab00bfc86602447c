import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.ts';

describe('RTC_ALLOW_PEER_ADDRESSES', () => {
  it('defaults to public peers only', () => {
    expect(loadWorkerConfig({ SQS_QUEUE_URL: 'q' }).RTC_ALLOW_PEER_ADDRESSES).toEqual([]);
  });

  it('reads a comma list of loopback, private and linklocal', () => {
    expect(loadWorkerConfig({ SQS_QUEUE_URL: 'q', RTC_ALLOW_PEER_ADDRESSES: 'loopback, private,linklocal' }).RTC_ALLOW_PEER_ADDRESSES).toEqual(['loopback', 'private', 'linklocal']);
  });

  it('refuses to start with a class it does not know', () => {
    expect(() => loadWorkerConfig({ SQS_QUEUE_URL: 'q', RTC_ALLOW_PEER_ADDRESSES: 'loopback,all' })).toThrow(
      'invalid configuration RTC_ALLOW_PEER_ADDRESSES: unknown peer address class "all" (allowed: loopback, private, linklocal)',
    );
  });
});
