/** A minimal typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<M extends { [K in keyof M]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof M, Set<M[keyof M]>>();

  on<K extends keyof M>(name: K, fn: M[K]): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Calls each listener; one that throws is reported asynchronously and does not stop the others. */
  emit<K extends keyof M>(name: K, ...args: Parameters<M[K]>): void {
    for (const fn of [...(this.listeners.get(name) ?? [])]) {
      try {
        (fn as (...a: Parameters<M[K]>) => void)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
