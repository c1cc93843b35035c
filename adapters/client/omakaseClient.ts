/**
 * The omakase client: one session over the WebSocket protocol (docs/protocol.md), for the browser and for
 * Node. It keeps the handshake, the credit, the seqs and the heartbeat, resumes a dropped connection with
 * exponential backoff and jitter, and resends the requests that were never answered. The connection half
 * (hello, welcome, heartbeat, reconnects) is SessionConnection's (sessionConnection.ts); this file is the
 * session's: credit, requests and items. It imports nothing but itself and the dependency-free protocol
 * module, so a bundler can take it into a page as it is.
 */
import type { FeedbackType, RequestId, WireItem, WireSteer } from '../protocol.ts';
import { BackoffTimer } from './backoff.ts';
import { clientError, OmakaseClientError } from './clientError.ts';
import type { OmakaseClientOptions } from './clientTypes.ts';
import { CreditLedger } from './creditLedger.ts';
import { type Acked, RequestQueue } from './requestQueue.ts';
import { SessionConnection, type SessionFrame } from './sessionConnection.ts';

// The public types (options, states, events), importable from here as before.
export type * from './clientTypes.ts';

/** Requests kept free below `limits.maxPending` for `more` and `ping`. */
const SPARE_PENDING = 4;

/**
 * One session over one (replaceable) WebSocket.
 * @example
 * const client = new OmakaseClient({ url: 'ws://127.0.0.1:8080/ws', start: { intent: { text: 'jazz' } } });
 * client.on('item', ({ seq, item }) => console.log(seq, item.title));
 * await client.connect();
 * client.more(10);
 * await client.feedback(1, 'liked');
 */
export class OmakaseClient extends SessionConnection {
  private readonly credit = new CreditLedger();
  private readonly requests = new RequestQueue();
  /** Tries after `starved` (or a failed fetch), and the wait before the next. */
  private readonly starvedRetry: BackoffTimer;

  constructor(options: OmakaseClientOptions) {
    super(options);
    this.starvedRetry = new BackoffTimer(
      this.timers,
      { ...this.backoff, ...options.starvedBackoff },
      this.random,
    );
  }

  /** Items asked for with `more` and not yet received. */
  get outstanding(): number {
    return this.credit.wanted;
  }

  /**
   * Asks for `n` more items. The client grants the server credit in steps of at most `limits.maxMore`, never
   * above `limits.maxCredit`, and asks again after a reconnect for what had not arrived.
   */
  more(n: number): void {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`more(n): n must be a positive integer, got ${n}`);
    this.credit.wanted += n;
    this.topUp();
  }

  /** Resolves once the server has durably recorded it (`ack`); withdrawals follow as `invalidated` events. */
  feedback(seq: number, kind: FeedbackType, atMs?: number): Promise<void> {
    if (kind === 'skipped') {
      if (!Number.isInteger(atMs) || (atMs as number) < 0) {
        throw new RangeError('feedback(seq, "skipped", atMs): atMs must be an integer ≥ 0');
      }
      return this.request({ type: 'feedback', seq, kind, atMs });
    }
    return this.request({ type: 'feedback', seq, kind });
  }

  steer(steer: WireSteer): Promise<void> {
    return this.request({ type: 'steer', steer });
  }
  pause(): Promise<void> {
    return this.request({ type: 'pause' });
  }
  play(): Promise<void> {
    return this.request({ type: 'play' });
  }
  /** Ends the session (the server answers `ack`, `ended`, then closes 4000). */
  end(): Promise<void> {
    return this.request({ type: 'end' });
  }

  // ---- the connection's hooks ----

  protected connecting(): void {
    this.credit.reconnected();
    this.requests.reconnected();
  }

  protected deliveredWhileAway(n: number): void {
    this.credit.deliveredWhileAway(n);
  }

  protected opened(): void {
    this.flush();
    this.topUp();
  }

  protected onFinish(closed: OmakaseClientError): void {
    this.starvedRetry.clear();
    this.requests.rejectAll(closed);
  }

  protected onMessage(message: SessionFrame): void {
    switch (message.type) {
      case 'item':
        this.onItem(message.seq, message.item, message.re);
        return;
      case 'ack':
        if (this.requests.answered(message.id)) this.flush();
        return;
      case 'invalidated':
        this.emit('invalidated', message);
        return;
      case 'starved': {
        this.starvedRetry.clear();
        let retryInMs: number | undefined;
        if (this.starvedRetry.attempt < (this.options.starvedRetries ?? 10)) {
          retryInMs = this.starvedRetry.next();
          // The server serves kept credit after the next `more`: ask for one more item, later.
          this.starvedRetry.wait(() => this.more(1), retryInMs);
        }
        this.emit('starved', { credit: message.credit, retryInMs });
        return;
      }
      case 'error':
        this.onError(new OmakaseClientError(message.code, message.message, message.retryable, message.id));
        return;
    }
  }

  private onItem(seq: number, item: WireItem, re: RequestId | undefined): void {
    this.starvedRetry.reset();
    // What was asked above maxCredit is granted as the credit is used.
    if (re !== undefined && this.credit.used(re)) this.topUp();
    if (seq <= this.seq) {
      this.stats.duplicates++;
      return;
    }
    this.seq = seq;
    this.emit('item', { seq, item, re, resent: re === undefined });
  }

  private onError(err: OmakaseClientError): void {
    if (this.reportError(err)) return;
    const id = err.id;
    if (id === undefined) return;
    if (this.requests.failed(id, err)) {
      this.flush();
      return;
    }
    if (this.credit.owns(id)) {
      // A failed fetch drops the connection's credit: ask again, after a pause, when it may succeed.
      this.credit.dropped(err.retryable);
      if (err.retryable) {
        this.starvedRetry.wait(() => this.topUp(), this.starvedRetry.next());
      }
    }
  }

  // ---- outbound ----

  private request(message: Acked): Promise<void> {
    if (this.finished) {
      return Promise.reject(clientError('CLIENT_CLOSED', 'The client is closed; start a new one.'));
    }
    const answered = this.requests.add(this.newId(), message);
    this.flush();
    return answered;
  }

  /** Sends waiting requests in order, keeping below the server's `maxPending`; after a resume, resends. */
  private flush(): void {
    if (!this.welcomed) return;
    for (const { id, message, resend } of this.requests.due(
      Math.max(1, this.limits.maxPending - SPARE_PENDING),
    )) {
      if (resend) this.stats.resent++;
      this.sendFrame({ ...message, id });
    }
  }

  /** Grants the server what the application still wants, within the limits. */
  private topUp(): void {
    if (!this.welcomed) return;
    for (const { id, n } of this.credit.plan(this.limits, () => this.newId()))
      this.sendFrame({ type: 'more', id, n });
  }
}
