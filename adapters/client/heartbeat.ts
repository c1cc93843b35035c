import type { RequestId } from '../protocol.ts';
import { clientError, type OmakaseClientError } from './clientError.ts';
import type { ClientTimers } from './clientTypes.ts';

/**
 * The app-level pings of one connection: the heartbeat's own, one at a time, where a pong later than the
 * timeout marks the connection dead; and those the application sends with `ping()`, answered with the round
 * trip. Stopped when the connection goes: its pings will never be answered.
 */
export class Heartbeat {
  private readonly pings = new Map<
    RequestId,
    { sentAt: number; resolve: (rttMs: number) => void; reject: (err: OmakaseClientError) => void }
  >();
  private pingTimer: unknown;
  private pongTimer: unknown;
  private heartbeatPing: RequestId | undefined;

  constructor(
    private readonly timers: ClientTimers,
    private readonly send: (frame: { type: 'ping'; id: RequestId }) => void,
    private readonly newId: () => string,
  ) {}

  /** One ping now; resolves with its round trip in ms. */
  ping(): Promise<number> {
    const id = this.newId();
    return new Promise((resolve, reject) => {
      this.pings.set(id, { sentAt: this.timers.now(), resolve, reject });
      this.send({ type: 'ping', id });
    });
  }

  /** Pings every `everyMs`; `onDead` runs when a pong has not come within `pongTimeoutMs`. */
  start(everyMs: number, pongTimeoutMs: number, onDead: () => void): void {
    this.stop();
    const tick = (): void => {
      if (this.heartbeatPing === undefined) {
        const id = this.newId();
        this.heartbeatPing = id;
        this.send({ type: 'ping', id });
        this.pongTimer = this.timers.setTimeout(onDead, pongTimeoutMs);
      }
      this.pingTimer = this.timers.setTimeout(tick, everyMs);
    };
    this.pingTimer = this.timers.setTimeout(tick, everyMs);
  }

  pong(id: RequestId): void {
    if (id === this.heartbeatPing) {
      this.heartbeatPing = undefined;
      this.timers.clearTimeout(this.pongTimer);
    }
    const ping = this.pings.get(id);
    if (ping) {
      this.pings.delete(id);
      ping.resolve(this.timers.now() - ping.sentAt);
    }
  }

  /** The connection is gone (or going): the timers stop, and pings sent on it are rejected. */
  stop(): void {
    this.timers.clearTimeout(this.pingTimer);
    this.timers.clearTimeout(this.pongTimer);
    this.heartbeatPing = undefined;
    const lost = clientError('CLIENT_NOT_CONNECTED', 'The connection dropped before the pong came.');
    for (const ping of this.pings.values()) ping.reject(lost);
    this.pings.clear();
  }
}
