/** Plain results of the CallSession RPC methods (errors cross the RPC boundary as values). */
export type Failure = { ok: false; status: 400 | 401 | 404 | 409 | 410 | 412 | 500 | 502 | 503; code: string; message: string };
export type Result<T> = ({ ok: true } & T) | Failure;

export const fail = (status: Failure['status'], code: string, message: string): Failure => ({ ok: false, status, code, message });
