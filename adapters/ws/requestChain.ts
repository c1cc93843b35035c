import type { Admission } from './admission.ts';

/**
 * A connection's requests, run one at a time in arrival order (a steer then a feedback reach the session in
 * the order sent), each counted as waiting on this connection and in flight on the node until it settles.
 */
export class RequestChain {
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly admission: Admission) {}

  /** Requests waiting or running. */
  get size(): number {
    return this.pending;
  }

  /** Settles once every request queued so far has. */
  get settledAll(): Promise<void> {
    return this.tail;
  }

  /** Queues `task` behind the others; a task that throws or rejects is handed to `onError`. */
  add(task: () => Promise<void> | undefined, onError: (err: unknown) => void): void {
    this.pending++;
    this.admission.inFlight++;
    this.tail = this.tail.then(task).then(this.settled, (err) => {
      this.settled();
      onError(err);
    });
  }

  private readonly settled = (): void => {
    this.pending--;
    this.admission.inFlight--;
  };
}
