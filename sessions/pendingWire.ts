import type { WireRecord } from './sessionLog.ts';

/** Adapter records held for one session between two log entries; more are dropped (replay says so). */
const MAX_PENDING_WIRE = 4096;

/** Adapter traffic per session waiting for the session's next log entry (`SessionService.record`). */
export class PendingWire {
  private readonly wire = new Map<string, WireRecord[]>();

  add(sessionId: string, records: readonly WireRecord[]): void {
    const pending = this.wire.get(sessionId);
    if (pending === undefined) {
      this.wire.set(sessionId, [...records]);
      return;
    }
    // A connection whose session writes nothing for a long while must not grow this without end.
    if (pending.length < MAX_PENDING_WIRE) pending.push(...records);
  }

  /** The session's records, once: they go out with the entry being written. */
  take(sessionId: string): WireRecord[] | undefined {
    const records = this.wire.get(sessionId);
    if (records === undefined) return undefined;
    this.wire.delete(sessionId);
    return records;
  }

  drop(sessionId: string): void {
    this.wire.delete(sessionId);
  }

  clear(): void {
    this.wire.clear();
  }
}
