import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const START = resolve(import.meta.dirname, '../scripts/start.ts');

describe('npm start on a taken port', () => {
  let holder: Server;
  afterAll(() => new Promise<void>((r) => holder.close(() => r())));

  it('exits 1 with one line naming the port and the variable that moves it, not a stack trace', async () => {
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    const child = spawn(process.execPath, [START], {
      env: { ...process.env, LOCAL_SQS_PORT: String(port), SQS_QUEUE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(stderr).toContain(`npm start: port ${port} on 127.0.0.1 is in use`);
    expect(stderr).toContain('LOCAL_SQS_PORT');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 20_000);
});
