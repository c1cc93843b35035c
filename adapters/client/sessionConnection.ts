/**
 * The connection half of the omakase client: one session's link to the server over a replaceable WebSocket.
 * It sends the `hello` (a start, or a resume with the session's id, token and last seq), waits for the
 * `welcome` within a time box, keeps the heartbeat, resumes a dropped connection with exponential backoff and
 * jitter inside the session's grace window, and ends for good on a close code that is not retryable. What
 * the session does on it (credit, requests, items) is OmakaseClient's, through the abstract hooks.
 */
import {
  CLOSE_CODES,
  type CloseCode,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LIMITS,
  type EndedMessage,
  type HelloMessage,
  type Limits,
  type PongMessage,
  PROTOCOL_VERSION,
  type RequestId,
  type ServerMessage,
  type WelcomeMessage,
} from '../protocol.ts';
import { type BackoffOptions, BackoffTimer, DEFAULT_BACKOFF } from './backoff.ts';
import { ClientEmitter } from './clientEmitter.ts';
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
import { Heartbeat } from './heartbeat.ts';
import { decodeServerFrame, isFrameProblem } from './serverFrame.ts';

/** The frames a session handles; the connection answers `welcome`, `pong` and `ended` itself. */
export type SessionFrame = Exclude<ServerMessage, WelcomeMessage | PongMessage | EndedMessage>;

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

/**
 * One session's connection, resumed across sockets; OmakaseClient extends it with the session's side. A base
 * class rather than a member: the hooks run at fixed points inside the connection's steps (between a
 * welcome's bookkeeping and its events, inside `finish` before the connect promise rejects), in the order
 * they always had.
 */
export abstract class SessionConnection {
  protected readonly options: OmakaseClientOptions;
  private readonly Ctor: WebSocketConstructor;
  protected readonly timers: ClientTimers;
  protected readonly random: () => number;
  protected readonly backoff: BackoffOptions;
  private readonly events = new ClientEmitter();
  private readonly idPrefix: string;
  private nextId = 1;

  private socket: WebSocketLike | undefined;
  private helloId: RequestId | undefined;
  /** The current socket has had its `welcome`: requests may go out. */
  protected welcomed = false;
  private session: { sessionId: string; resumeToken: string } | undefined;
  /** The highest seq received (a resume asks for what came after it). */
  protected seq = 0;
  /** The server's limits, as its last `welcome` announced them. */
  protected limits: Limits = { ...DEFAULT_LIMITS };
  private graceMs = Number.POSITIVE_INFINITY;
  private current: ConnectionState = { state: 'idle' };
  /** Closed or ended: nothing more is sent, and no new connection is made. */
  protected finished = false;

  private readonly heartbeat: Heartbeat;
  /** Reconnect attempts since the last welcome, and the wait before the next. */
  private readonly reconnect: BackoffTimer;
  private droppedAt: number | undefined;
  private handshakeTimer: unknown;
  private connected: Promise<WelcomeMessage> | undefined;
  private settleConnected: { resolve: (w: WelcomeMessage) => void; reject: (e: Error) => void } | undefined;
  /** The code of the last error frame; the close that follows it is named after it. */
  private lastCloseError: string | undefined;

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
    this.reconnect = new BackoffTimer(this.timers, this.backoff, this.random);
    // Request ids are unique within the session, across reconnects: a resent request keeps its id, so that
    // the server can recognise it (see "Request ids and resend" in docs/protocol.md).
    this.idPrefix = `${Math.floor(this.random() * 36 ** 6).toString(36)}-`;
    this.heartbeat = new Heartbeat(
      this.timers,
      (frame) => this.sendFrame(frame),
      () => this.newId(),
    );
    if (options.resume) {
      this.session = { sessionId: options.resume.sessionId, resumeToken: options.resume.resumeToken };
      this.seq = options.resume.lastSeq;
    }
  }

  /** A new socket is being opened: what was in flight on the old one goes again after its welcome. */
  protected abstract connecting(): void;
  /** A resume's welcome: the session delivered `n` items after our last seq, on the old connection's credit. */
  protected abstract deliveredWhileAway(n: number): void;
  /** The welcome is in and the heartbeat runs: what waits may be sent. */
  protected abstract opened(): void;
  /** A frame for the session. */
  protected abstract onMessage(message: SessionFrame): void;
  /** The client has finished: every request not yet answered is rejected with `closed`. */
  protected abstract onFinish(closed: OmakaseClientError): void;

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
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

  /** Round trip of an app-level ping, in ms. */
  ping(): Promise<number> {
    if (!this.welcomed) {
      return Promise.reject(clientError('CLIENT_NOT_CONNECTED', 'ping() needs an open connection.'));
    }
    return this.heartbeat.ping();
  }

  /** While waiting to reconnect: try now (a "retry now" button). */
  reconnectNow(): void {
    if (this.current.state !== 'reconnecting') return;
    this.reconnect.clear();
    this.open();
  }

  /**
   * Closes the connection without ending the session: it waits out its grace window and can be resumed with
   * `sessionId`, `resumeToken` and `lastSeq`. Unanswered requests are rejected with CLIENT_CLOSED.
   */
  close(): void {
    this.finish('closed');
  }

  private open(): void {
    if (this.finished) return;
    const resuming = this.session !== undefined;
    this.setState({ state: 'connecting', attempt: this.reconnect.attempt, resuming });
    const ws = new this.Ctor(this.options.url);
    this.socket = ws;
    this.welcomed = false;
    this.connecting();
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
    const inMs = this.reconnect.next();
    this.stats.reconnects++;
    this.setState({ state: 'reconnecting', attempt: this.reconnect.attempt, inMs, at: now + inMs, reason });
    this.reconnect.wait(() => this.open(), inMs);
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
    this.reconnect.clear();
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
    this.onFinish(closed);
    this.settleConnected?.reject(
      new OmakaseClientError(code ?? 'CLIENT_CLOSED', `The session could not be opened (${reason}).`, false),
    );
    this.settleConnected = undefined;
    this.setState({ state: 'ended', reason, ...(code === undefined ? {} : { code }) });
  }

  private onFrame(text: string): void {
    const message = decodeServerFrame(text);
    if (isFrameProblem(message)) {
      // A type this client does not know may come from a newer server: it is skipped, not an error.
      if (!message.unknownType) this.emit('error', clientError('CLIENT_BAD_FRAME', message.problem));
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.onWelcome(message);
        return;
      case 'pong':
        this.heartbeat.pong(message.id);
        return;
      case 'ended':
        this.finish(message.reason, 'SESSION_ENDED');
        return;
      default:
        this.onMessage(message);
    }
  }

  private onWelcome(welcome: WelcomeMessage): void {
    if (welcome.id !== this.helloId) return;
    const resumed = this.session !== undefined;
    if (resumed) {
      // Items the session delivered after our lastSeq were paid for by the old connection's credit; they
      // follow as resent items (those still in the session's window).
      this.deliveredWhileAway(welcome.lastSeq - this.seq);
    }
    this.session = { sessionId: welcome.sessionId, resumeToken: welcome.resumeToken };
    this.limits = welcome.limits;
    this.graceMs = welcome.graceMs;
    this.welcomed = true;
    this.timers.clearTimeout(this.handshakeTimer);
    this.reconnect.reset();
    this.droppedAt = undefined;
    this.lastCloseError = undefined;
    this.setState({ state: 'open', sessionId: welcome.sessionId, resumed });
    this.emit('welcome', welcome);
    this.settleConnected?.resolve(welcome);
    this.settleConnected = undefined;
    this.startHeartbeat(this.options.heartbeatMs ?? (welcome.heartbeatMs || DEFAULT_HEARTBEAT_MS));
    this.opened();
  }

  /**
   * Reports an error frame; true when it answered our hello before any welcome, which is handled here: a
   * refused resume is followed by close 4410, a fatal one by its close; a retryable start is retried.
   */
  protected reportError(err: OmakaseClientError): boolean {
    this.lastCloseError = err.code;
    this.emit('error', err);
    const id = err.id;
    if (id === undefined || id !== this.helloId || this.welcomed) return false;
    if (this.session === undefined && err.retryable) this.drop(err.code);
    else if (this.session === undefined) this.finish('refused', err.code);
    return true;
  }

  private startHeartbeat(everyMs: number): void {
    const pongTimeoutMs = this.options.pongTimeoutMs ?? 10_000;
    this.heartbeat.start(everyMs, pongTimeoutMs, () => {
      this.emit(
        'error',
        clientError('CLIENT_PONG_TIMEOUT', `No pong within ${pongTimeoutMs} ms; reconnecting to resume.`),
      );
      this.drop('pong-timeout');
    });
  }

  /** The connection is gone (or going): its timers stop, and pings sent on it will never be answered. */
  private stopHeartbeat(): void {
    this.heartbeat.stop();
    this.timers.clearTimeout(this.handshakeTimer);
  }

  protected sendFrame(message: { type: string; id: RequestId; [field: string]: unknown }): void {
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  protected newId(): string {
    return `${this.idPrefix}${this.nextId++}`;
  }

  private setState(state: ConnectionState): void {
    this.current = state;
    this.emit('state', state);
  }

  protected emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    this.events.emit(event, value);
  }
}
