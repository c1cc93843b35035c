import type { RequestId } from '../protocol.ts';
import type { OmakaseClientError } from './clientError.ts';

/** A request the server answers with `ack` (or `error`). */
export type Acked = { type: 'feedback' | 'steer' | 'pause' | 'play' | 'end'; [field: string]: unknown };

interface Pending {
  id: RequestId;
  message: Acked;
  /** Sent on the current connection. */
  sent: boolean;
  /** Sent on some connection before (a send now is a resend). */
  everSent: boolean;
  resolve: () => void;
  reject: (err: OmakaseClientError) => void;
}

/**
 * The requests waiting for their answer, in the order made. They survive a reconnect: what was not answered
 * goes again on the next connection, with the same id.
 */
export class RequestQueue {
  private readonly pending = new Map<RequestId, Pending>();

  add(id: RequestId, message: Acked): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.set(id, { id, message, sent: false, everSent: false, resolve, reject });
    });
  }

  /** A new connection: nothing is in flight on it yet. */
  reconnected(): void {
    for (const p of this.pending.values()) p.sent = false;
  }

  /** The requests to send now, oldest first, keeping at most `room` in flight; each is marked sent. */
  due(room: number): { id: RequestId; message: Acked; resend: boolean }[] {
    let inFlight = 0;
    for (const p of this.pending.values()) if (p.sent) inFlight++;
    const out: { id: RequestId; message: Acked; resend: boolean }[] = [];
    for (const p of this.pending.values()) {
      if (inFlight >= room) break;
      if (p.sent) continue;
      out.push({ id: p.id, message: p.message, resend: p.everSent });
      p.sent = true;
      p.everSent = true;
      inFlight++;
    }
    return out;
  }

  /** The `ack` came; false when the id is not one of these requests. */
  answered(id: RequestId): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.resolve();
    return true;
  }

  /** An `error` answered it; false when the id is not one of these requests. */
  failed(id: RequestId, err: OmakaseClientError): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.reject(err);
    return true;
  }

  rejectAll(err: OmakaseClientError): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
