/**
 * The worker's slots: one per session id, however many runs of it are alive. A worker can claim
 * a session it is still finishing (its control channel dropped for good, the edge re-queued the
 * call, and the same worker took it over): the new run takes the id's slot while the old one
 * releases, and the slot is freed when the last run of the id has finished, not when the first
 * does (which would free the slot of a call still running) nor once per run (a double free).
 */
export interface SlotRun {
  readonly id: string;
  readonly done: Promise<void>;
}

export class SessionSlots<T extends SlotRun> {
  private readonly byId = new Map<string, Set<T>>();

  /** Slots taken: distinct session ids with a run alive. */
  get size(): number {
    return this.byId.size;
  }

  /** Every run alive (a session's old run while it finishes, too). */
  runs(): T[] {
    return [...this.byId.values()].flatMap((set) => [...set]);
  }

  /**
   * Tracks a run until its `done` settles. `onFreed` runs once the id's last run has finished:
   * the slot is free again.
   */
  add(run: T, onFreed: () => void): void {
    let set = this.byId.get(run.id);
    if (!set) {
      set = new Set();
      this.byId.set(run.id, set);
    }
    set.add(run);
    const forget = (): void => {
      const current = this.byId.get(run.id);
      if (!current?.delete(run)) return;
      if (current.size > 0) return;
      this.byId.delete(run.id);
      onFreed();
    };
    run.done.then(forget, forget);
  }
}
