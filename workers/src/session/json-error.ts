import type { ErrorBody } from '@switchboard/protocol';

/** A contract error response: `{"error": {"code", "message"}}`. */
export function jsonError(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  const body: ErrorBody = { error: { code, message } };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}
