/** The client library's public types: what it needs of a WebSocket, its options, states and events. */
import type { HelloMessage, InvalidatedMessage, RequestId, WelcomeMessage, WireItem } from '../protocol.ts';
import type { BackoffOptions } from './backoff.ts';
import type { OmakaseClientError } from './clientError.ts';

/** A handler parameter checked both ways, so that the DOM's and the `ws` library's event types both fit. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** What the client needs of a WebSocket: the WHATWG API, which browsers, Node's global and `ws` all have. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Timers and clock, injectable for tests. */
export interface ClientTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface OmakaseClientOptions {
  /** `ws://host:port/ws` or `wss://…`. */
  url: string;
  /** The WebSocket class: `globalThis.WebSocket` when absent; in Node 20 pass `ws`'s (`import WebSocket from 'ws'`). */
  WebSocket?: WebSocketConstructor;
  /** How to start the session (intent, profile, seed). Ignored when `resume` is given. */
  start?: HelloMessage['start'];
  /** Take over an existing session (e.g. after a page reload) instead of starting one. */
  resume?: { sessionId: string; resumeToken: string; lastSeq: number };
  backoff?: Partial<BackoffOptions>;
  /** Interval of the app-level `ping`; the server's `welcome.heartbeatMs` when absent. */
  heartbeatMs?: number;
  /** A `pong` later than this marks the connection dead: the client drops it and resumes (default 10 s). */
  pongTimeoutMs?: number;
  /** A connection with no `welcome` this long after it was opened is dropped and tried again (default 15 s). */
  connectTimeoutMs?: number;
  /** Waits after a `starved` before asking for one more item to try again (default: the backoff). */
  starvedBackoff?: Partial<BackoffOptions>;
  /**
   * Tries after `starved` in a row, each asking for one more item (default 10): a bounded surplus when the
   * session can serve again. After that the next `more`, `feedback` or `steer` tries again.
   */
  starvedRetries?: number;
  /** For the jitter (default Math.random). */
  random?: () => number;
  timers?: ClientTimers;
}

/** Where the connection stands; every change is emitted as a `state` event. */
export type ConnectionState =
  | { state: 'idle' }
  | { state: 'connecting'; attempt: number; resuming: boolean }
  | { state: 'open'; sessionId: string; resumed: boolean }
  | { state: 'reconnecting'; attempt: number; inMs: number; at: number; reason: string }
  | { state: 'ended'; reason: string; code?: string };

/** An item as the client hands it on: `resent` when it came again after a resume (it has no `re`). */
export interface ClientItem {
  seq: number;
  item: WireItem;
  re?: RequestId;
  resent: boolean;
}

export interface ClientEvents {
  state: ConnectionState;
  welcome: WelcomeMessage;
  item: ClientItem;
  invalidated: InvalidatedMessage;
  /** Nothing the session's rules allow right now; the client tries again in `retryInMs`. */
  starved: { credit: number; retryInMs: number | undefined };
  /** Every error: the server's (by its code) and the client's own (CLIENT_*). */
  error: OmakaseClientError;
}

/** Counters a caller can check: items dropped as duplicates, requests sent again, reconnects made. */
export interface ClientStats {
  duplicates: number;
  resent: number;
  reconnects: number;
}
