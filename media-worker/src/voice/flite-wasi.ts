/**
 * A WASI preview1 host that keeps every file in memory: just the 13 imports flite.wasm uses
 * (args, clock, stdio and a single preopened directory of in-memory files).
 *
 * Why not `node:wasi`: it can only preopen real host directories, so every synthesis would write
 * a WAV file to disk and read it back (and clean up after crashes), it writes Flite's stderr
 * warnings straight to the process's stderr, and it prints an ExperimentalWarning. Here Flite
 * writes `-o /mem/out.wav` into a Uint8Array, its stdout and stderr are captured (bounded) for
 * error messages, and nothing outside the sandbox is reachable: there is no host file system at
 * all. One host serves one instance for one run of `_start`.
 */

// The few WebAssembly API types used here: the project's lib (ES2023, no DOM) declares none.
declare const wasmModuleBrand: unique symbol;
/** A compiled `WebAssembly.Module` (shareable between threads by postMessage). */
export type WasmModule = { readonly [wasmModuleBrand]: true };
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export type WasmImports = Record<string, Record<string, (...args: never[]) => unknown>>;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
  Memory: abstract new (...args: never[]) => WasmMemory;
}
/** `globalThis.WebAssembly`, typed with the above. */
export const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The directory Flite sees; its files live in `FliteWasiHost.files`. */
export const MEM_DIR = '/mem';

const ERRNO = { SUCCESS: 0, BADF: 8, EXIST: 20, INVAL: 28, IO: 29, ISDIR: 31, NOENT: 44, NOSYS: 52, NOTDIR: 54 } as const;
const FILETYPE = { CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4 } as const;
const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const FDFLAGS_APPEND = 1;
const DIR_FD = 3;
/** Captured stdout/stderr beyond this is dropped (Flite can print one warning per unit). */
const MAX_CAPTURE = 16 * 1024;
/** No single in-memory file may grow past this (a runaway write fails with EIO instead of eating memory). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Thrown by `proc_exit` to unwind out of `_start`. */
export class WasiExit {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

/** A growable in-memory file. */
class MemFile {
  bytes = new Uint8Array(0);
  size = 0;

  write(at: number, src: Uint8Array): boolean {
    const end = at + src.length;
    if (end > MAX_FILE_BYTES) return false;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.bytes.length * 2, 4096));
      grown.set(this.bytes.subarray(0, this.size));
      this.bytes = grown;
    }
    if (at > this.size) this.bytes.fill(0, this.size, at);
    this.bytes.set(src, at);
    this.size = Math.max(this.size, end);
    return true;
  }

  contents(): Uint8Array {
    return this.bytes.slice(0, this.size);
  }
}

interface OpenFile {
  file: MemFile;
  pos: number;
  append: boolean;
}

export class FliteWasiHost {
  /** Files in MEM_DIR by name (no subdirectories). */
  readonly files = new Map<string, MemFile>();
  #args: Uint8Array[] = [];
  #memory: WasmMemory | undefined;
  #fds = new Map<number, OpenFile>();
  #nextFd = DIR_FD + 1;
  #stdout = '';
  #stderr = '';
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();

  /** Sets argv (argv[0] included); read by the program when `_start` runs. */
  setArgs(args: readonly string[]): void {
    this.#args = args.map((a) => this.#encoder.encode(`${a}\0`));
  }

  /** The instance's memory: call once the instance exists, before `_start`. */
  bind(memory: WasmMemory): void {
    this.#memory = memory;
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** A file's bytes, or undefined if the program never created it. */
  readFile(name: string): Uint8Array | undefined {
    return this.files.get(name)?.contents();
  }

  /** Runs `_start`; returns the exit code (0 when main returned without calling exit). */
  start(instance: WasmInstance): number {
    const start = instance.exports._start;
    if (typeof start !== 'function') throw new Error('the WebAssembly module has no _start export');
    try {
      start();
      return 0;
    } catch (err) {
      if (err instanceof WasiExit) return err.code;
      throw err;
    }
  }

  imports(): WasmImports {
    return { wasi_snapshot_preview1: this.#functions() };
  }

  #view(): DataView {
    if (!this.#memory) throw new Error('FliteWasiHost: bind(memory) before running');
    return new DataView(this.#memory.buffer);
  }

  #bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.#memory!.buffer, ptr, len);
  }

  #capture(fd: number, chunk: Uint8Array): void {
    const text = this.#decoder.decode(chunk);
    if (fd === 1 && this.#stdout.length < MAX_CAPTURE) this.#stdout += text;
    if (fd === 2 && this.#stderr.length < MAX_CAPTURE) this.#stderr += text;
  }

  #functions(): Record<string, (...args: never[]) => number> {
    const sizes = (countPtr: number, bufSizePtr: number): number => {
      const v = this.#view();
      v.setUint32(countPtr, this.#args.length, true);
      v.setUint32(bufSizePtr, this.#args.reduce((n, a) => n + a.length, 0), true);
      return ERRNO.SUCCESS;
    };
    return {
      args_sizes_get: sizes,
      args_get: (argvPtr: number, bufPtr: number): number => {
        const v = this.#view();
        let at = bufPtr;
        this.#args.forEach((a, i) => {
          v.setUint32(argvPtr + 4 * i, at, true);
          this.#bytes(at, a.length).set(a);
          at += a.length;
        });
        return ERRNO.SUCCESS;
      },
      clock_time_get: (_id: number, _precision: bigint, outPtr: number): number => {
        this.#view().setBigUint64(outPtr, process.hrtime.bigint(), true);
        return ERRNO.SUCCESS;
      },
      proc_exit: (code: number): never => {
        throw new WasiExit(code);
      },
      fd_prestat_get: (fd: number, outPtr: number): number => {
        if (fd !== DIR_FD) return ERRNO.BADF;
        const v = this.#view();
        v.setUint8(outPtr, 0); // preopen type: directory
        v.setUint32(outPtr + 4, MEM_DIR.length, true);
        return ERRNO.SUCCESS;
      },
      fd_prestat_dir_name: (fd: number, pathPtr: number, len: number): number => {
        if (fd !== DIR_FD) return ERRNO.BADF;
        this.#bytes(pathPtr, len).set(this.#encoder.encode(MEM_DIR).subarray(0, len));
        return ERRNO.SUCCESS;
      },
      fd_fdstat_get: (fd: number, outPtr: number): number => {
        const type = fd <= 2 ? FILETYPE.CHARACTER_DEVICE : fd === DIR_FD ? FILETYPE.DIRECTORY : this.#fds.has(fd) ? FILETYPE.REGULAR_FILE : 0;
        if (type === 0) return ERRNO.BADF;
        const v = this.#view();
        v.setUint8(outPtr, type);
        v.setUint16(outPtr + 2, this.#fds.get(fd)?.append ? FDFLAGS_APPEND : 0, true);
        v.setBigUint64(outPtr + 8, 0x1fffffffn, true); // every right
        v.setBigUint64(outPtr + 16, 0x1fffffffn, true);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_set_flags: (fd: number, flags: number): number => {
        const f = this.#fds.get(fd);
        if (f) f.append = (flags & FDFLAGS_APPEND) !== 0;
        return f || fd <= DIR_FD ? ERRNO.SUCCESS : ERRNO.BADF;
      },
      path_open: (dirFd: number, _dirFlags: number, pathPtr: number, pathLen: number, oflags: number, _rb: bigint, _ri: bigint, fdFlags: number, fdPtr: number): number => {
        if (dirFd !== DIR_FD) return ERRNO.BADF;
        const name = this.#decoder.decode(this.#bytes(pathPtr, pathLen));
        if (name === '' || name === '.' || name.includes('/')) return name === '.' || name === '' ? ERRNO.ISDIR : ERRNO.NOENT;
        if (oflags & OFLAGS.DIRECTORY) return ERRNO.NOTDIR;
        let file = this.files.get(name);
        if (file && oflags & OFLAGS.CREAT && oflags & OFLAGS.EXCL) return ERRNO.EXIST;
        if (!file) {
          if (!(oflags & OFLAGS.CREAT)) return ERRNO.NOENT;
          file = new MemFile();
          this.files.set(name, file);
        }
        if (oflags & OFLAGS.TRUNC) file.size = 0;
        const fd = this.#nextFd++;
        this.#fds.set(fd, { file, pos: 0, append: (fdFlags & FDFLAGS_APPEND) !== 0 });
        this.#view().setUint32(fdPtr, fd, true);
        return ERRNO.SUCCESS;
      },
      fd_close: (fd: number): number => {
        if (fd <= 2) return ERRNO.SUCCESS;
        return this.#fds.delete(fd) ? ERRNO.SUCCESS : ERRNO.BADF;
      },
      fd_seek: (fd: number, offset: bigint, whence: number, outPtr: number): number => {
        const f = this.#fds.get(fd);
        if (!f) return fd <= 2 ? ERRNO.INVAL : ERRNO.BADF;
        const base = whence === 0 ? 0 : whence === 1 ? f.pos : whence === 2 ? f.file.size : NaN;
        const pos = base + Number(offset);
        if (!Number.isSafeInteger(pos) || pos < 0) return ERRNO.INVAL;
        f.pos = pos;
        this.#view().setBigUint64(outPtr, BigInt(pos), true);
        return ERRNO.SUCCESS;
      },
      fd_read: (fd: number, iovs: number, iovsLen: number, nreadPtr: number): number => {
        const v = this.#view();
        const f = this.#fds.get(fd);
        if (!f) {
          if (fd !== 0) return ERRNO.BADF;
          v.setUint32(nreadPtr, 0, true); // stdin is empty
          return ERRNO.SUCCESS;
        }
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true);
          const len = v.getUint32(iovs + 8 * i + 4, true);
          const n = Math.max(0, Math.min(len, f.file.size - f.pos));
          this.#bytes(ptr, n).set(f.file.bytes.subarray(f.pos, f.pos + n));
          f.pos += n;
          total += n;
          if (n < len) break;
        }
        v.setUint32(nreadPtr, total, true);
        return ERRNO.SUCCESS;
      },
      fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number => {
        const v = this.#view();
        const f = this.#fds.get(fd);
        if (!f && fd !== 1 && fd !== 2) return ERRNO.BADF;
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const chunk = this.#bytes(v.getUint32(iovs + 8 * i, true), v.getUint32(iovs + 8 * i + 4, true));
          if (!f) {
            this.#capture(fd, chunk);
          } else {
            if (f.append) f.pos = f.file.size;
            if (!f.file.write(f.pos, chunk)) return ERRNO.IO;
            f.pos += chunk.length;
          }
          total += chunk.length;
        }
        v.setUint32(nwrittenPtr, total, true);
        return ERRNO.SUCCESS;
      },
    };
  }
}
