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

describe('recording settings', () => {
  const base = { SQS_QUEUE_URL: 'q' };

  it('default to no storage, the recordings/ prefix, no notice, and recording on request only', () => {
    const c = loadWorkerConfig(base);
    expect({
      bucket: c.RECORDING_BUCKET,
      prefix: c.RECORDING_PREFIX,
      dir: c.RECORDING_DIR,
      endpoint: c.RECORDING_S3_ENDPOINT,
      notice: c.RECORDING_NOTICE,
      all: c.RECORD_ALL,
    }).toEqual({ bucket: '', prefix: 'recordings/', dir: '', endpoint: '', notice: '', all: false });
  });

  it('reads every setting; an empty value means its default', () => {
    const c = loadWorkerConfig({
      ...base,
      RECORDING_BUCKET: 'calls',
      RECORDING_PREFIX: 'prod/rec/',
      RECORDING_DIR: '/var/rec',
      RECORDING_S3_ENDPOINT: 'http://127.0.0.1:4566',
      RECORDING_NOTICE: 'This call is recorded.',
      RECORD_ALL: 'true',
    });
    expect([c.RECORDING_BUCKET, c.RECORDING_PREFIX, c.RECORDING_DIR, c.RECORDING_S3_ENDPOINT, c.RECORDING_NOTICE, c.RECORD_ALL]).toEqual([
      'calls',
      'prod/rec/',
      '/var/rec',
      'http://127.0.0.1:4566',
      'This call is recorded.',
      true,
    ]);
    expect(loadWorkerConfig({ ...base, RECORD_ALL: 'false' }).RECORD_ALL).toBe(false);
    expect(loadWorkerConfig({ ...base, RECORDING_PREFIX: '' }).RECORDING_PREFIX).toBe('recordings/');
  });

  it('refuses a prefix that is not a folder, an unknown RECORD_ALL and an over-long notice', () => {
    for (const p of ['recordings', '/recordings/', 'a//']) {
      expect(() => loadWorkerConfig({ ...base, RECORDING_PREFIX: p }), p).toThrow(/invalid configuration RECORDING_PREFIX: RECORDING_PREFIX must end with "\/"/);
    }
    expect(() => loadWorkerConfig({ ...base, RECORD_ALL: 'yes' })).toThrow(/invalid configuration RECORD_ALL/);
    expect(() => loadWorkerConfig({ ...base, RECORDING_NOTICE: 'x'.repeat(2001) })).toThrow(/invalid configuration RECORDING_NOTICE/);
  });
});
