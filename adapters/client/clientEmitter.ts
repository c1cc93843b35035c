import type { ClientEvents } from './clientTypes.ts';

/** The client's events and their listeners; a listener that throws cannot break the client's bookkeeping. */
export class ClientEmitter {
  private readonly listeners = new Map<keyof ClientEvents, Set<(value: never) => void>>();

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (value: ClientEvents[K]) => void)(value);
      } catch (err) {
        // A listener's bug must not break the client's bookkeeping; it still surfaces, uncaught.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
