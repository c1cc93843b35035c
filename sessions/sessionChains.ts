import { sessionError } from './errors.ts';

/** Each session's calls, run one at a time in arrival order, whatever the previous one did. */
export class SessionChains {
  private readonly chains = new Map<string, Promise<unknown>>();
  private closed = false;

  /** Runs `task` after the session's earlier calls; rejects at once once the manager is closed. */
  run<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(sessionError('SESSION_STORE_UNAVAILABLE', 'The session manager is closed.'));
    const run = (this.chains.get(sessionId) ?? Promise.resolve()).then(task, task);
    const tail = run.catch(() => {});
    this.chains.set(sessionId, tail);
    void tail.then(() => {
      if (this.chains.get(sessionId) === tail) this.chains.delete(sessionId);
    });
    return run;
  }

  /** Whether the session has a call under way or waiting. */
  has(sessionId: string): boolean {
    return this.chains.has(sessionId);
  }

  /** Waits for the calls under way, then refuses new ones. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    this.closed = true;
  }
}
