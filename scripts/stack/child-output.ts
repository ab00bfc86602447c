import type { ChildProcess } from 'node:child_process';

/** Keeps the last ~100 KB of a child's stdout and stderr (and echoes it unless quiet). */
export function collectOutput(child: ChildProcess, quiet: boolean): () => string {
  let out = '';
  const collect = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    if (!quiet) process.stderr.write(b);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => out;
}
