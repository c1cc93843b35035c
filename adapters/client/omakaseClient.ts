/**
 * The omakase client: one session over the WebSocket protocol (docs/protocol.md), for the browser and for
 * Node. It keeps the handshake, the credit, the seqs and the heartbeat, resumes a dropped connection with
 * exponential backoff and jitter, and resends the requests that were never answered. It imports nothing but
 * the dependency-free protocol module, so a bundler can take it into a page as it is.
 */
import {
  CLOSE_CODES,
  type CloseCode,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LIMITS,
  type FeedbackType,
  type HelloMessage,
  type Limits,
  PROTOCOL_VERSION,
  type RequestId,
  type ServerMessage,
  type WelcomeMessage,
  type WireItem,
  type WireSteer,
} from '../protocol.ts';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { clientError, OmakaseClientError } from './clientError.ts';
import type {
  ClientEvents,
  ClientStats,
  ClientTimers,
  ConnectionState,
  OmakaseClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './clientTypes.ts';
import { CreditLedger } from './creditLedger.ts';
import { type Acked, RequestQueue } from './requestQueue.ts';
import { decodeServerFrame, isFrameProblem } from './serverFrame.ts';

export type {
  ClientEvents,
  ClientItem,
  ClientStats,
  ClientTimers,
  ConnectionState,
  OmakaseClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './clientTypes.ts';

const DEFAULT_TIMERS: ClientTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
  now: () => Date.now(),
};

function detach(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
}

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
export class OmakaseClient {
  private readonly options: OmakaseClientOptions;
  private readonly Ctor: WebSocketConstructor;
  private readonly timers: ClientTimers;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly starvedBackoff: BackoffOptions;
  private readonly listeners = new Map<keyof ClientEvents, Set<(value: never) => void>>();
  private readonly idPrefix: string;
  private nextId = 1;

  private socket: WebSocketLike | undefined;
  private helloId: RequestId | undefined;
  private welcomed = false;
  private session: { sessionId: string; resumeToken: string } | undefined;
  private seq = 0;
  private limits: Limits = { ...DEFAULT_LIMITS };
  private graceMs = Number.POSITIVE_INFINITY;
  private current: ConnectionState = { state: 'idle' };
  private finished = false;

  private readonly credit = new CreditLedger();
  private readonly requests = new RequestQueue();
  private readonly pings = new Map<
    RequestId,
    { sentAt: number; resolve: (rttMs: number) => void; reject: (err: OmakaseClientError) => void }
  >();

  private attempt = 0;
  private droppedAt: number | undefined;
  private reconnectTimer: unknown;
  private pingTimer: unknown;
  private pongTimer: unknown;
  private handshakeTimer: unknown;
  private heartbeatPing: RequestId | undefined;
  private starvedTimer: unknown;
  private starvedAttempt = 0;
  private connected: Promise<WelcomeMessage> | undefined;
  private settleConnected: { resolve: (w: WelcomeMessage) => void; reject: (e: Error) => void } | undefined;

  readonly stats: ClientStats = { duplicates: 0, resent: 0, reconnects: 0 };

  constructor(options: OmakaseClientOptions) {
    this.options = options;
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (typeof Ctor !== 'function') {
      throw new TypeError(
        'No WebSocket class: pass options.WebSocket (in Node 20: `import WebSocket from "ws"`, or run node --experimental-websocket).',
      );
    }
    this.Ctor = Ctor as WebSocketConstructor;
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.random = options.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.starvedBackoff = { ...this.backoff, ...options.starvedBackoff };
    // Request ids are unique within the session, across reconnects: a resent request keeps its id, so that
    // the server can recognise it (see "Request ids and resend" in docs/protocol.md).
    this.idPrefix = `${Math.floor(this.random() * 36 ** 6).toString(36)}-`;
    if (options.resume) {
      this.session = { sessionId: options.resume.sessionId, resumeToken: options.resume.resumeToken };
      this.seq = options.resume.lastSeq;
    }
  }

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

  /** Opens the connection; resolves with the first `welcome`, rejects when the session cannot be opened. */
  connect(): Promise<WelcomeMessage> {
    if (!this.connected) {
      this.connected = new Promise((resolve, reject) => {
        this.settleConnected = { resolve, reject };
      });
      this.open();
    }
    return this.connected;
  }

  get state(): ConnectionState {
    return this.current;
  }
  get sessionId(): string | undefined {
    return this.session?.sessionId;
  }
  /** The latest resume token (it rotates on every resume): keep it with `sessionId` and `lastSeq` to resume later. */
  get resumeToken(): string | undefined {
    return this.session?.resumeToken;
  }
  /** The highest seq received. */
  get lastSeq(): number {
    return this.seq;
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

  /** Round trip of an app-level ping, in ms. */
  ping(): Promise<number> {
    if (!this.welcomed) {
      return Promise.reject(clientError('CLIENT_NOT_CONNECTED', 'ping() needs an open connection.'));
    }
    const id = this.newId();
    return new Promise((resolve, reject) => {
      this.pings.set(id, { sentAt: this.timers.now(), resolve, reject });
      this.sendFrame({ type: 'ping', id });
    });
  }

  /** While waiting to reconnect: try now (a "retry now" button). */
  reconnectNow(): void {
    if (this.current.state !== 'reconnecting') return;
    this.timers.clearTimeout(this.reconnectTimer);
    this.open();
  }

  /**
   * Closes the connection without ending the session: it waits out its grace window and can be resumed with
   * `sessionId`, `resumeToken` and `lastSeq`. Unanswered requests are rejected with CLIENT_CLOSED.
   */
  close(): void {
    this.finish('closed');
  }

  // ---- connection ----

  private open(): void {
    if (this.finished) return;
    const resuming = this.session !== undefined;
    this.setState({ state: 'connecting', attempt: this.attempt, resuming });
    const ws = new this.Ctor(this.options.url);
    this.socket = ws;
    this.welcomed = false;
    this.credit.reconnected();
    this.requests.reconnected();
    ws.onopen = () => {
      if (this.socket !== ws) return;
      this.helloId = this.newId();
      const hello: HelloMessage = this.session
        ? {
            type: 'hello',
            id: this.helloId,
            protocol: PROTOCOL_VERSION,
            resume: { ...this.session, lastSeq: this.seq },
          }
        : { type: 'hello', id: this.helloId, protocol: PROTOCOL_VERSION, start: this.options.start ?? {} };
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (event) => {
      if (this.socket === ws) this.onFrame(typeof event.data === 'string' ? event.data : String(event.data));
    };
    ws.onclose = (event) => {
      if (this.socket === ws) this.onClose(event.code, event.reason);
    };
    // A failed connect is followed by close, which decides what to do.
    ws.onerror = () => {};
    // A connection that opens but never answers (a dead route, a hung server) is dropped, not waited on.
    const handshakeMs = this.options.connectTimeoutMs ?? 15_000;
    this.handshakeTimer = this.timers.setTimeout(() => {
      if (this.socket === ws && !this.welcomed) this.drop('connect-timeout');
    }, handshakeMs);
  }

  private onClose(code: number, reason: string): void {
    this.socket = undefined;
    this.welcomed = false;
    this.stopHeartbeat();
    if (this.finished) return;
    const known = CLOSE_CODES[code as CloseCode];
    if (known && !known.retryable) {
      this.finish(known.name, this.lastCloseError ?? known.name);
      return;
    }
    this.scheduleReconnect(reason || `closed ${code}`);
  }

  /** The code of the last error frame; the close that follows it is named after it. */
  private lastCloseError: string | undefined;

  private scheduleReconnect(reason: string): void {
    const now = this.timers.now();
    if (this.session) {
      this.droppedAt ??= now;
      if (now - this.droppedAt > this.graceMs) {
        const err = clientError(
          'CLIENT_GRACE_EXPIRED',
          `No connection for ${Math.round((now - this.droppedAt) / 1000)} s, longer than the session's grace window of ${Math.round(this.graceMs / 1000)} s; start a new session.`,
        );
        this.emit('error', err);
        this.finish('grace-expired', err.code);
        return;
      }
    }
    const inMs = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt++;
    this.stats.reconnects++;
    this.setState({ state: 'reconnecting', attempt: this.attempt, inMs, at: now + inMs, reason });
    this.reconnectTimer = this.timers.setTimeout(() => this.open(), inMs);
  }

  /** The connection is taken as dead: stop listening to it and resume on a new one. */
  private drop(reason: string): void {
    const ws = this.socket;
    this.socket = undefined;
    this.welcomed = false;
    this.stopHeartbeat();
    if (ws) {
      detach(ws);
      try {
        ws.close();
      } catch {
        // Closing a socket that never opened may throw in some implementations; it is gone either way.
      }
    }
    this.scheduleReconnect(reason);
  }

  private finish(reason: string, code?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stopHeartbeat();
    this.timers.clearTimeout(this.reconnectTimer);
    this.timers.clearTimeout(this.starvedTimer);
    const ws = this.socket;
    this.socket = undefined;
    if (ws) {
      detach(ws);
      if (ws.readyState === 0 || ws.readyState === 1) ws.close(1000, 'client closed');
    }
    const closed = clientError(
      'CLIENT_CLOSED',
      `The session is over (${reason}); the request was not answered.`,
    );
    this.requests.rejectAll(closed);
    this.settleConnected?.reject(
      new OmakaseClientError(code ?? 'CLIENT_CLOSED', `The session could not be opened (${reason}).`, false),
    );
    this.settleConnected = undefined;
    this.setState({ state: 'ended', reason, ...(code === undefined ? {} : { code }) });
  }

  // ---- frames ----

  private onFrame(text: string): void {
    const message = decodeServerFrame(text);
    if (isFrameProblem(message)) {
      // A type this client does not know may come from a newer server: it is skipped, not an error.
      if (!message.unknownType) this.emit('error', clientError('CLIENT_BAD_FRAME', message.problem));
      return;
    }
    this.handle(message);
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.onWelcome(message);
        return;
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
        this.timers.clearTimeout(this.starvedTimer);
        let retryInMs: number | undefined;
        if (this.starvedAttempt < (this.options.starvedRetries ?? 10)) {
          retryInMs = backoffDelay(this.starvedAttempt++, this.starvedBackoff, this.random);
          // The server serves kept credit after the next `more`: ask for one more item, later.
          this.starvedTimer = this.timers.setTimeout(() => this.more(1), retryInMs);
        }
        this.emit('starved', { credit: message.credit, retryInMs });
        return;
      }
      case 'pong': {
        if (message.id === this.heartbeatPing) {
          this.heartbeatPing = undefined;
          this.timers.clearTimeout(this.pongTimer);
        }
        const ping = this.pings.get(message.id);
        if (ping) {
          this.pings.delete(message.id);
          ping.resolve(this.timers.now() - ping.sentAt);
        }
        return;
      }
      case 'ended':
        this.finish(message.reason, 'SESSION_ENDED');
        return;
      case 'error':
        this.onError(new OmakaseClientError(message.code, message.message, message.retryable, message.id));
        return;
    }
  }

  private onWelcome(welcome: WelcomeMessage): void {
    if (welcome.id !== this.helloId) return;
    const resumed = this.session !== undefined;
    if (resumed) {
      // Items the session delivered after our lastSeq were paid for by the old connection's credit; they
      // follow as resent items (those still in the session's window).
      this.credit.deliveredWhileAway(welcome.lastSeq - this.seq);
    }
    this.session = { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken };
    this.limits = welcome.limits;
    this.graceMs = welcome.graceMs;
    this.welcomed = true;
    this.timers.clearTimeout(this.handshakeTimer);
    this.attempt = 0;
    this.droppedAt = undefined;
    this.lastCloseError = undefined;
    this.setState({ state: 'open', sessionId: welcome.sessionId, resumed });
    this.emit('welcome', welcome);
    this.settleConnected?.resolve(welcome);
    this.settleConnected = undefined;
    this.startHeartbeat(this.options.heartbeatMs ?? (welcome.heartbeatMs || DEFAULT_HEARTBEAT_MS));
    this.flush();
    this.topUp();
  }

  private onItem(seq: number, item: WireItem, re: RequestId | undefined): void {
    this.starvedAttempt = 0;
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
    this.lastCloseError = err.code;
    this.emit('error', err);
    const id = err.id;
    if (id !== undefined && id === this.helloId && !this.welcomed) {
      // A refused resume is followed by close 4410, a fatal one by its close; a retryable start is retried.
      if (this.session === undefined && err.retryable) this.drop(err.code);
      else if (this.session === undefined) this.finish('refused', err.code);
      return;
    }
    if (id === undefined) return;
    if (this.requests.failed(id, err)) {
      this.flush();
      return;
    }
    if (this.credit.owns(id)) {
      // A failed fetch drops the connection's credit: ask again, after a pause, when it may succeed.
      this.credit.dropped(err.retryable);
      if (err.retryable) {
        const inMs = backoffDelay(this.starvedAttempt++, this.starvedBackoff, this.random);
        this.timers.clearTimeout(this.starvedTimer);
        this.starvedTimer = this.timers.setTimeout(() => this.topUp(), inMs);
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

  private startHeartbeat(everyMs: number): void {
    this.stopHeartbeat();
    const pongTimeoutMs = this.options.pongTimeoutMs ?? 10_000;
    const tick = (): void => {
      if (this.heartbeatPing === undefined) {
        const id = this.newId();
        this.heartbeatPing = id;
        this.sendFrame({ type: 'ping', id });
        this.pongTimer = this.timers.setTimeout(() => {
          this.emit(
            'error',
            clientError('CLIENT_PONG_TIMEOUT', `No pong within ${pongTimeoutMs} ms; reconnecting to resume.`),
          );
          this.drop('pong-timeout');
        }, pongTimeoutMs);
      }
      this.pingTimer = this.timers.setTimeout(tick, everyMs);
    };
    this.pingTimer = this.timers.setTimeout(tick, everyMs);
  }

  /** The connection is gone (or going): its timers stop, and pings sent on it will never be answered. */
  private stopHeartbeat(): void {
    this.timers.clearTimeout(this.pingTimer);
    this.timers.clearTimeout(this.pongTimer);
    this.timers.clearTimeout(this.handshakeTimer);
    this.heartbeatPing = undefined;
    const lost = clientError('CLIENT_NOT_CONNECTED', 'The connection dropped before the pong came.');
    for (const ping of this.pings.values()) ping.reject(lost);
    this.pings.clear();
  }

  private sendFrame(message: { type: string; id: RequestId; [field: string]: unknown }): void {
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  private newId(): string {
    return `${this.idPrefix}${this.nextId++}`;
  }

  private setState(state: ConnectionState): void {
    this.current = state;
    this.emit('state', state);
  }

  private emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
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
