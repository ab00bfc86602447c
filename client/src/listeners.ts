/**
 * A small typed event registry. Unlike Node's EventEmitter, emitting `error` with no listener
 * does not throw (the client also keeps every error in a list), and a listener that throws cannot
 * break the emitter's caller: its exception is rethrown on a fresh microtask, where it surfaces
 * as an uncaught exception as usual, after the client's own state is consistent.
 */
// `any` in the constraint lets each event declare its own argument list.
export type EventMap = Record<string, (...args: any[]) => void>;

export class Listeners<E extends EventMap> {
  #map = new Map<keyof E, Set<E[keyof E]>>();

  on<K extends keyof E>(name: K, listener: E[K]): void {
    let set = this.#map.get(name);
    if (!set) this.#map.set(name, (set = new Set()));
    set.add(listener);
  }

  off<K extends keyof E>(name: K, listener: E[K]): void {
    this.#map.get(name)?.delete(listener);
  }

  emit<K extends keyof E>(name: K, ...args: Parameters<E[K]>): void {
    for (const listener of [...(this.#map.get(name) ?? [])]) {
      try {
        listener(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
