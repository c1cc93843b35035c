/** How items leave a WebSocket connection: `ItemPump`, and what it needs of its connection (`PumpHost`). */
import type { WebSocket } from 'ws';
import type { DeliveredItem } from '../../sessions/sessionService.ts';
import type { ItemMessage, RequestId, ServerMessage, WireItem } from '../protocol.ts';
import type { ConnectionContext } from './connectionContext.ts';
import { Credit } from './credit.ts';
import type { Outbound } from './outbound.ts';
import { protoError } from './protoError.ts';

/** What the pump needs of its connection. */
export interface PumpHost {
  readonly ws: WebSocket;
  readonly out: Outbound;
  /** Resolves once the socket has closed. */
  readonly gone: Promise<void>;
  /** The connection has a session and its socket is open. */
  isOpen(): boolean;
  isDraining(): boolean;
  /** Fetches up to `n` items from the session. */
  fetch(n: number): Promise<DeliveredItem[]>;
  send(msg: ServerMessage): void;
  /** A fetch failed: the error goes to the client as the answer to request `id`. */
  fail(err: unknown, id: RequestId | undefined): void;
}

/**
 * A connection's way items go out: the client's cumulative credit (credit.ts) is spent in chunks fetched from
 * the session, never past the socket's high-water mark; when the session has nothing allowed to send it says
 * `starved` and waits for a change (feedback, steering, a new `more`) to try again. It also knows the highest
 * seq sent, which feedback may not go past.
 */
export class ItemPump {
  private readonly credit = new Credit();
  /** Highest seq this session has sent (welcome's lastSeq counts): feedback beyond it is PROTO_UNKNOWN_SEQ. */
  private highestSeq = 0;
  private pumping = false;
  private starved = false;
  /** The pump's current run, so a drain can wait for items already being fetched. */
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: ConnectionContext,
    private readonly host: PumpHost,
  ) {}

  /** Settles once the items being fetched now (if any) have been sent. */
  get run(): Promise<void> {
    return this.current;
  }

  /** The session opened (or resumed) with `lastSeq` already sent. */
  opened(lastSeq: number): void {
    this.highestSeq = lastSeq;
  }

  /** A `more`: adds its credit (within `limits.maxCredit`) and starts sending. */
  grant(id: RequestId, n: number): void {
    if (this.credit.outstanding + n > this.ctx.limits.maxCredit) {
      const message = `outstanding credit ${this.credit.outstanding} + ${n} exceeds ${this.ctx.limits.maxCredit}`;
      throw protoError('PROTO_CREDIT_EXCEEDED', message);
    }
    this.credit.grant(id, n);
    this.starved = false;
    this.kick();
  }

  /** Throws PROTO_UNKNOWN_SEQ for feedback on a seq this session never sent. */
  checkSent(seq: number): void {
    if (seq > this.highestSeq) {
      throw protoError(
        'PROTO_UNKNOWN_SEQ',
        `seq ${seq} was never sent; the last sent seq is ${this.highestSeq}`,
      );
    }
  }

  /** The session changed (feedback, steering): a starved pump with credit left tries again. */
  changed(): void {
    if (this.starved && this.credit.outstanding > 0) {
      this.starved = false;
      this.kick();
    }
  }

  private kick(): void {
    if (!this.pumping) this.current = this.pump();
  }

  /** Sends items while there is credit, in chunks, never past the socket's high-water mark. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const { host, credit } = this;
    try {
      while (credit.outstanding > 0 && host.isOpen() && !this.starved && !host.isDraining()) {
        if (host.ws.bufferedAmount > this.ctx.highWaterBytes) {
          await host.out.flushed(host.gone);
          continue;
        }
        const n = Math.min(credit.outstanding, this.ctx.chunk);
        const items = await host.fetch(n);
        if (!host.isOpen()) return;
        if (items.length === 0) {
          this.starved = true;
          host.send({ type: 'starved', credit: credit.outstanding, re: credit.oldest });
          return;
        }
        // A service that returns more than asked must not make the server exceed the client's credit.
        const sent = items.slice(0, n);
        for (const item of sent) this.send(item, credit.spend());
        this.ctx.observer.itemsSent?.(sent.length);
      }
    } catch (err) {
      // Outstanding credit is dropped on a failed fetch: the client asks again rather than the server looping.
      const re = credit.oldest;
      credit.drop();
      host.fail(err, re);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Sends one item, naming the `more` whose credit it used (`re`; none for items re-sent after a resume).
   * One object literal, encoded once: JSON leaves out the fields that are undefined (album, reasons, re).
   */
  send(item: DeliveredItem, re: RequestId | undefined): void {
    const wire: WireItem = {
      id: item.id,
      title: item.title,
      artist: item.artist,
      durationMs: item.durationMs,
      startMs: item.startMs,
      degraded: item.degraded,
      album: item.album,
      reasons: this.ctx.reasons ? { ...item.reasons } : undefined,
    };
    if (item.seq > this.highestSeq) this.highestSeq = item.seq;
    const frame: ItemMessage = { type: 'item', seq: item.seq, item: wire, re };
    this.host.out.write(JSON.stringify(frame));
  }
}
