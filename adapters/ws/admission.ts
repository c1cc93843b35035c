import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { TokenBucket } from './tokenBucket.ts';

/** What one server admits; every number is a `serve` flag (docs/operations.md). */
export interface ServerLimits {
  /** Open sockets on this server; the next one is closed with 1013. */
  maxConnections: number;
  /** Open sockets from one client address; the next one is closed with 1013. */
  maxConnectionsPerAddress: number;
  /** Bytes waiting to be written to one client; past it the client is closed with 4413. */
  maxBufferedBytes: number;
  /** Frames one connection may send per second, on average… */
  messagesPerSecond: number;
  /** …and in one burst; past it: PROTO_RATE_LIMITED, close 4429. */
  messageBurst: number;
  /** Sessions one principal may hold open on this server at once; the next hello: PROTO_OVERLOADED, 1013. */
  maxSessionsPerPrincipal: number;
  /** Sessions one principal may start per minute; the next: PROTO_RATE_LIMITED, close 1013. */
  sessionStartsPerMinute: number;
  /** Requests waiting or running across the server; above it new sessions are refused (1013). */
  maxInFlight: number;
  /** Event-loop delay (p99 over the last second, ms) above which new sessions are refused; 0 = off. */
  overloadLagMs: number;
  /**
   * How long the node's oldest waiting refresh may have waited (ms) before new sessions are refused; 0 = off.
   * Past it the node is deciding behind its listeners (their pools refresh late), so new ones go elsewhere.
   */
  overloadRefreshWaitMs: number;
  /** On drain, how long requests in flight may take before their sockets are closed anyway. */
  drainTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxConnections: 10_000,
  maxConnectionsPerAddress: 200,
  maxBufferedBytes: 1024 * 1024,
  messagesPerSecond: 50,
  messageBurst: 200,
  maxSessionsPerPrincipal: 200,
  sessionStartsPerMinute: 120,
  maxInFlight: 20_000,
  overloadLagMs: 2_000,
  overloadRefreshWaitMs: 10_000,
  drainTimeoutMs: 10_000,
};

/**
 * The server-wide counts behind the limits: connections per address, sessions and start rate per principal,
 * requests in flight, and the event loop's delay. Every refusal is a reason string for the close frame.
 */
export class Admission {
  draining = false;
  inFlight = 0;
  private connections = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  private readonly starts = new Map<string, TokenBucket>();
  private readonly delay: IntervalHistogram | undefined;
  private lagMs = 0;
  private readonly timer: NodeJS.Timeout;

  /** `refreshWaitMs`: how long the node's oldest waiting refresh has waited (the session service says). */
  constructor(
    readonly limits: ServerLimits,
    private readonly refreshWaitMs: () => number = () => 0,
  ) {
    if (limits.overloadLagMs > 0) {
      this.delay = monitorEventLoopDelay({ resolution: 20 });
      this.delay.enable();
    }
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  /** Event-loop delay p99 over the last second, in ms. */
  eventLoopLagMs(): number {
    return this.lagMs;
  }

  /** Counts a new socket, or says why it is refused (nothing is counted then). */
  admitConnection(address: string): string | undefined {
    if (this.connections >= this.limits.maxConnections)
      return 'server at its connection limit; try again later';
    const n = this.byAddress.get(address) ?? 0;
    if (n >= this.limits.maxConnectionsPerAddress)
      return 'too many connections from this address; try again later';
    this.connections++;
    this.byAddress.set(address, n + 1);
    return undefined;
  }

  releaseConnection(address: string): void {
    this.connections--;
    const n = (this.byAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.byAddress.delete(address);
    else this.byAddress.set(address, n);
  }

  /** Why no new session can be opened now (overload, draining), or undefined. */
  overloaded(): string | undefined {
    if (this.draining) return 'server draining; resume elsewhere';
    if (this.inFlight > this.limits.maxInFlight)
      return 'server overloaded (requests in flight); try again later';
    if (this.limits.overloadLagMs > 0 && this.lagMs > this.limits.overloadLagMs)
      return 'server overloaded (event loop delay); try again later';
    if (this.limits.overloadRefreshWaitMs > 0 && this.refreshWaitMs() > this.limits.overloadRefreshWaitMs)
      return 'server overloaded (decisions behind); try again later';
    return undefined;
  }

  /** Why `principal` may not start a session now: the code to send and the reason, or undefined. */
  admitStart(
    principal: string,
  ): { code: 'PROTO_RATE_LIMITED' | 'PROTO_OVERLOADED'; reason: string } | undefined {
    if ((this.sessions.get(principal) ?? 0) >= this.limits.maxSessionsPerPrincipal)
      return { code: 'PROTO_OVERLOADED', reason: 'too many open sessions for this principal' };
    let bucket = this.starts.get(principal);
    if (bucket === undefined) {
      const perMinute = this.limits.sessionStartsPerMinute;
      bucket = new TokenBucket(perMinute / 60, perMinute);
      this.starts.set(principal, bucket);
    }
    if (!bucket.take())
      return { code: 'PROTO_RATE_LIMITED', reason: 'sessions started too fast; try again later' };
    return undefined;
  }

  /** Whether `principal` is below its open-session cap (a resume is not rate-limited, but is capped). */
  sessionRoom(principal: string): boolean {
    return (this.sessions.get(principal) ?? 0) < this.limits.maxSessionsPerPrincipal;
  }

  sessionOpened(principal: string): void {
    this.sessions.set(principal, (this.sessions.get(principal) ?? 0) + 1);
  }

  sessionClosed(principal: string): void {
    const n = (this.sessions.get(principal) ?? 1) - 1;
    if (n <= 0) this.sessions.delete(principal);
    else this.sessions.set(principal, n);
  }

  close(): void {
    clearInterval(this.timer);
    this.delay?.disable();
  }

  private tick(): void {
    if (this.delay) {
      this.lagMs = this.delay.percentile(99) / 1e6;
      this.delay.reset();
    }
    // A full bucket is the same as none: forget it, so idle principals cost nothing.
    for (const [principal, bucket] of this.starts) if (bucket.full()) this.starts.delete(principal);
  }
}
