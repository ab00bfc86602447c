/**
 * One long-lived `pocketsphinx_batch` child process. Its control file (`-ctl`) and its hypseg
 * output (`-hypseg`) are two FIFOs we hold open: writing a line `uNN` to the first makes it decode
 * the raw 16 kHz PCM file `<cepdir>/uNN.raw`, and it answers with one line on the second (flushed
 * per utterance). FIFOs, not stdin/stdout: Node's stdio pipes are socketpairs, which pocketsphinx
 * cannot fopen() as `/dev/stdin` or `/dev/stdout` (ENXIO). Fresh FIFOs per process, so a restarted
 * one never reads its predecessor's unread lines. One utterance at a time: `decode()` rejects if
 * called while one is in flight.
 *
 * Every wait is bounded: a decode that does not answer within its timeout kills the process
 * (SIGKILL: it is stuck, nothing to save) and rejects; an exit rejects the decode in flight with
 * the process's last ERROR/FATAL log lines. The child and its pipes are unref'd, so an idle
 * recognizer never keeps Node running; a pending decode's timer does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';

/** The Debian packages of the binary and the model, named in every "not installed" error. */
export const POCKETSPHINX_INSTALL_HINT =
  'install Debian packages pocketsphinx pocketsphinx-en-us (e.g. `npm start` with HANDLER=assistant does)';

/** A result line longer than this is not pocketsphinx's: a 40 s utterance's hypseg is ~10 KiB. */
const MAX_LINE_CHARS = 256 * 1024;
/** ERROR/FATAL log lines kept for error messages, and their length. */
const KEEP_LOG_LINES = 8;
const MAX_LOG_LINE_CHARS = 400;

export class PocketsphinxMissingError extends Error {
  override name = 'PocketsphinxMissingError';
}
export class PocketsphinxTimeoutError extends Error {
  override name = 'PocketsphinxTimeoutError';
}
export class PocketsphinxExitError extends Error {
  override name = 'PocketsphinxExitError';
}

export interface PocketsphinxProcessOptions {
  command: string;
  /** Everything but `-ctl` and `-hypseg`. */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Where to make the two FIFOs: `<fifoPrefix>.ctl` and `<fifoPrefix>.hyp`, in a private dir. */
  fifoPrefix: string;
}

interface Pending {
  uttId: string;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class PocketsphinxProcess {
  readonly #child: ChildProcess;
  readonly #command: string;
  readonly #fifos: string[];
  readonly #hyp: Socket;
  #ctlFd: number | undefined;
  readonly #log: string[] = [];
  #pending: Pending | undefined;
  #resultBuf = '';
  #stderrBuf = '';
  #exitError: Error | undefined;

  constructor({ command, args, env, fifoPrefix }: PocketsphinxProcessOptions) {
    this.#command = command;
    const ctl = `${fifoPrefix}.ctl`;
    const hyp = `${fifoPrefix}.hyp`;
    this.#fifos = [ctl, hyp];
    execFileSync('mkfifo', ['-m', '600', ctl, hyp]);
    // Read-write, so neither side's open() blocks waiting for the other (Linux FIFO semantics);
    // the output side non-blocking, read through libuv like a socket.
    this.#ctlFd = openSync(ctl, constants.O_RDWR);
    this.#hyp = new Socket({ fd: openSync(hyp, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
    this.#hyp.setEncoding('utf8');
    this.#hyp.on('data', (chunk: string) => this.#onResults(chunk));
    this.#hyp.on('error', (err) => this.#fail(new PocketsphinxExitError(`pocketsphinx: reading results failed: ${err.message}`)));
    this.#child = spawn(command, [...args, '-ctl', ctl, '-hypseg', hyp], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const child = this.#child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => this.#onStderr(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.#fail(
        err.code === 'ENOENT'
          ? new PocketsphinxMissingError(`${command} not found on PATH: ${POCKETSPHINX_INSTALL_HINT}`)
          : new PocketsphinxExitError(`${command} failed to start: ${err.message}`),
      );
    });
    // 'close', not 'exit': the FATAL lines on stderr may arrive after the exit.
    child.on('close', (code, signal) => {
      const log = this.#log.length > 0 ? `: ${this.#log.join(' | ')}` : '';
      this.#fail(new PocketsphinxExitError(`${command} exited (${signal ?? `code ${code}`})${log}`));
    });
    child.unref();
    this.#hyp.unref();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** False once the process exited, failed to start, or was killed. */
  get alive(): boolean {
    return this.#exitError === undefined;
  }

  /** Decodes `<cepdir>/<uttId>.raw`; resolves with its hypseg line. */
  decode(uttId: string, timeoutMs: number): Promise<string> {
    if (this.#exitError) return Promise.reject(this.#exitError);
    if (this.#pending) return Promise.reject(new Error(`pocketsphinx: decode of ${uttId} while ${this.#pending.uttId} is in flight`));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        reject(new PocketsphinxTimeoutError(`pocketsphinx: no result for an utterance within ${timeoutMs} ms; the process was killed`));
        this.kill();
      }, timeoutMs);
      this.#pending = { uttId, resolve, reject, timer };
      // A few bytes into an emptied 64 KiB pipe buffer (one line per decode, decodes in series):
      // never blocks.
      writeSync(this.#ctlFd!, `${uttId}\n`);
    });
  }

  /** Kills the process (SIGKILL) and rejects the decode in flight. */
  kill(): void {
    this.#fail(new PocketsphinxExitError(`${this.#command} was killed`));
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  #onResults(chunk: string): void {
    this.#resultBuf += chunk;
    let nl: number;
    while ((nl = this.#resultBuf.indexOf('\n')) >= 0) {
      const line = this.#resultBuf.slice(0, nl);
      this.#resultBuf = this.#resultBuf.slice(nl + 1);
      this.#onLine(line);
    }
    if (this.#resultBuf.length > MAX_LINE_CHARS) {
      this.#log.push(`result line longer than ${MAX_LINE_CHARS} characters`);
      this.kill();
    }
  }

  #onLine(line: string): void {
    const p = this.#pending;
    if (!p || line.split(' ', 1)[0] !== p.uttId) return; // not an answer we wait for: ignore
    this.#pending = undefined;
    clearTimeout(p.timer);
    p.resolve(line);
  }

  #onStderr(chunk: string): void {
    this.#stderrBuf += chunk;
    const lines = this.#stderrBuf.split('\n');
    this.#stderrBuf = (lines.pop() ?? '').slice(-MAX_LOG_LINE_CHARS);
    for (const line of lines) {
      if (!/^(ERROR|FATAL)/.test(line)) continue;
      this.#log.push(line.slice(0, MAX_LOG_LINE_CHARS));
      if (this.#log.length > KEEP_LOG_LINES) this.#log.shift();
    }
  }

  #fail(err: Error): void {
    this.#exitError ??= err;
    if (this.#ctlFd !== undefined) {
      closeSync(this.#ctlFd);
      this.#ctlFd = undefined;
      this.#hyp.destroy();
      for (const f of this.#fifos) rmSync(f, { force: true });
    }
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    clearTimeout(p.timer);
    p.reject(err);
  }
}
