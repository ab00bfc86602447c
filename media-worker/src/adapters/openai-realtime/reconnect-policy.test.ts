import { describe, expect, it } from 'vitest';
import { ConnectError } from './connection.ts';
import { isTransientConnectError, isTransientLoss } from './reconnect-policy.ts';

const closed = (closeCode: number | undefined) => ({ message: 'lost', closeCode });

describe('reconnect policy', () => {
  it('reopens dropped sockets, servers going away and unanswered pings; not sessions the server ended or errors it called fatal', () => {
    for (const code of [1006, 1001, 1011, 1012, 1013, 1014, undefined]) expect(isTransientLoss(closed(code), undefined), String(code)).toBe(true);
    for (const code of [1000, 1002, 1003, 1005, 1007, 1008, 1009, 4000]) expect(isTransientLoss(closed(code), undefined), String(code)).toBe(false);
    expect(isTransientLoss(closed(1006), 'session_expired')).toBe(false);
  });

  it('retries network failures, timeouts, 408, 429 and 5xx; not a refused key or any other 4xx', () => {
    for (const status of [undefined, 408, 429, 500, 503]) expect(isTransientConnectError(new ConnectError('x', status)), String(status)).toBe(true);
    for (const status of [400, 401, 403, 404]) expect(isTransientConnectError(new ConnectError('x', status)), String(status)).toBe(false);
    expect(isTransientConnectError(new Error('not from connect()'))).toBe(false);
  });
});
