import type { SessionNotice } from './sessionService.ts';

/** The listeners to each session's notices (`SessionService.subscribe`). */
export class SessionNotices {
  private readonly listeners = new Map<string, Set<(notice: SessionNotice) => void>>();

  /** A listener that throws is reported to `onError`; the others still hear the notice. */
  constructor(private readonly onError: (err: unknown) => void) {}

  subscribe(sessionId: string, listener: (notice: SessionNotice) => void): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      this.listeners.get(sessionId)?.delete(listener);
    };
  }

  notify(sessionId: string, notice: SessionNotice): void {
    for (const listener of [...(this.listeners.get(sessionId) ?? [])]) {
      try {
        listener(notice);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Forgets the session's listeners (it ended, or another connection took it over). */
  drop(sessionId: string): void {
    this.listeners.delete(sessionId);
  }

  clear(): void {
    this.listeners.clear();
  }
}
