/**
 * Entry of a Flite synthesis worker thread (started by flite-pool.ts). It takes one request at a
 * time; Flite's CPU work happens here, never on the media worker's main thread.
 *
 * workerData: `{ module?: WasmModule }`. Without a module the thread reads and compiles
 * flite.wasm itself (the ~20 ms that would otherwise stall the main thread's 20 ms media clock)
 * and sends the compiled module back, so the pool can hand it to any further thread: one compile
 * per process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileFlite, FliteRunner } from './flite-wasm.ts';
import type { FliteVoice } from './flite-voices.ts';
import type { WasmModule } from './flite-wasi.ts';

export interface FliteRequest {
  id: number;
  voice: FliteVoice;
  text: string;
}

export type FliteWorkerMessage =
  | { type: 'ready'; module: WasmModule; compiled: boolean; compileMs: number; readMs: number }
  | { type: 'result'; id: number; samples: Int16Array; sampleRate: number; synthMs: number; instantiateMs: number }
  | { type: 'failed'; id: number; message: string };

const port = parentPort;
if (!port) throw new Error('flite-worker.ts is a worker thread entry; the pool starts it');

const given = (workerData as { module?: WasmModule } | undefined)?.module;
const compiled = given ? { module: given, compileMs: 0, readMs: 0 } : await compileFlite();
const runner = new FliteRunner(compiled.module);
runner.prewarm();
port.postMessage({ type: 'ready', compiled: !given, ...compiled } satisfies FliteWorkerMessage);

port.on('message', (req: FliteRequest) => {
  let reply: FliteWorkerMessage;
  const transfer: ArrayBuffer[] = [];
  try {
    const s = runner.synthesize(req.voice, req.text);
    reply = { type: 'result', id: req.id, samples: s.samples, sampleRate: s.sampleRate, synthMs: s.synthMs, instantiateMs: s.instantiateMs };
    transfer.push(s.samples.buffer as ArrayBuffer);
  } catch (err) {
    reply = { type: 'failed', id: req.id, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
  // The next instance is made after the reply is out, while the thread would be idle anyway.
  setImmediate(() => {
    try {
      runner.prewarm();
    } catch {
      // synthesize() will make (and report) its own instance.
    }
  });
});
