import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../../engine/engine.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import type { MemoryStoreStats } from '../../sessions/memoryStore.ts';
import type { SessionStore } from '../../sessions/sessionStore.ts';
import type { WsObserver } from '../ws/connectionContext.ts';

/** What the metrics read from the running server when scraped. */
export interface MetricsSources {
  connections(): number;
  sessions(): number;
  draining(): boolean;
  /** The memory store's holdings (absent on Redis). */
  memoryStore?(): MemoryStoreStats;
  /** Background refreshes waiting for their turn (`RefreshQueue`). */
  refreshesWaiting?(): number;
}

/**
 * The server's Prometheus metrics (`prom-client`), served at /metrics: sessions, connections, items, decisions
 * and their latency, feedback by kind, errors by code, store calls, refusals, and Node's own (event-loop
 * delay, heap, GC). Every name is listed in docs/operations.md.
 */
export class Metrics {
  readonly registry = new Registry();
  private sources: MetricsSources | undefined;
  readonly items = new Counter({
    name: 'omakase_items_served_total',
    help: 'Items sent to clients (re-sent items after a resume included).',
    registers: [this.registry],
  });
  readonly decisions = new Histogram({
    name: 'omakase_decision_seconds',
    help: 'Engine decisions (one call picking the next items), by outcome.',
    labelNames: ['outcome'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  /** How long background refreshes waited for their turn: how stale pools get under load. */
  readonly refreshWait = new Histogram({
    name: 'omakase_refresh_wait_seconds',
    help: 'Time a due refresh (a decision for a pool that still serves) waited in the node-wide refresh queue.',
    buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'omakase_feedback_total',
    help: 'Feedback acknowledged, by kind.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'omakase_errors_total',
    help: 'Error frames sent to clients, by code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'omakase_refusals_total',
    help: 'Connections the server closed for a limit, overload, auth or a slow reader, by close code.',
    labelNames: ['close_code'],
    registers: [this.registry],
  });
  readonly closes = new Counter({
    name: 'omakase_connections_closed_total',
    help: 'Closed client sockets, by close code.',
    labelNames: ['close_code'],
    registers: [this.registry],
  });
  readonly sessionsOpened = new Counter({
    name: 'omakase_sessions_opened_total',
    help: 'Sessions opened on a socket, by how (start or resume).',
    labelNames: ['how'],
    registers: [this.registry],
  });
  readonly storeCalls = new Histogram({
    name: 'omakase_store_call_seconds',
    help: 'Session store calls, by operation and outcome (ok, conflict, failed).',
    labelNames: ['op', 'outcome'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  readonly storeFailures = new Counter({
    name: 'omakase_store_failures_total',
    help: 'Session store calls that failed (unreachable, timed out), by operation.',
    labelNames: ['op'],
    registers: [this.registry],
  });

  readonly restores = new Counter({
    name: 'omakase_sessions_restored_total',
    help: 'Sessions this node rebuilt from the store (taken over from another node, resumed after a restart, or reloaded after a stale copy), by how and outcome.',
    labelNames: ['from', 'outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    const self = this;
    new Gauge({
      name: 'omakase_connections',
      help: 'Open client sockets.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.connections() ?? 0);
      },
    });
    new Gauge({
      name: 'omakase_sessions_live',
      help: 'Sessions attached to a socket on this node.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.sessions() ?? 0);
      },
    });
    new Gauge({
      name: 'omakase_refreshes_waiting',
      help: 'Due refreshes waiting in the node-wide refresh queue.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.refreshesWaiting?.() ?? 0);
      },
    });
    new Gauge({
      name: 'omakase_draining',
      help: '1 while the node drains (SIGTERM) and takes no new sessions.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.draining() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'omakase_memory_store_sessions',
      help: 'Sessions the memory store holds (live, disconnected, and ended ones kept for --ended-ttl-ms).',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.memoryStore?.().sessions ?? 0);
      },
    });
    new Gauge({
      name: 'omakase_memory_store_bytes',
      help: 'Characters of JSON (about bytes of heap) the memory store holds, by part (snapshot, log).',
      labelNames: ['part'],
      registers: [this.registry],
      collect() {
        const stats = self.sources?.memoryStore?.();
        this.set({ part: 'snapshot' }, stats?.snapshotChars ?? 0);
        this.set({ part: 'log' }, stats?.logChars ?? 0);
      },
    });
  }

  bind(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** The ws server's hooks that feed these metrics; `also` (the logger's hooks) runs too. */
  observer(also: WsObserver = {}): WsObserver {
    return {
      ...also,
      itemsSent: (n) => {
        this.items.inc(n);
        also.itemsSent?.(n);
      },
      feedback: (kind) => {
        this.feedback.inc({ kind });
        also.feedback?.(kind);
      },
      errorSent: (code, connection) => {
        this.errors.inc({ code });
        also.errorSent?.(code, connection);
      },
      refused: (code, reason, connection) => {
        this.refusals.inc({ close_code: String(code) });
        also.refused?.(code, reason, connection);
      },
      connectionClosed: (connection, code) => {
        this.closes.inc({ close_code: String(code) });
        also.connectionClosed?.(connection, code);
      },
      sessionOpened: (connection, how) => {
        this.sessionsOpened.inc({ how });
        also.sessionOpened?.(connection, how);
      },
    };
  }

  /** The same store, every call timed (`op`, outcome) and its failures counted. */
  instrumentStore<S extends SessionStore>(store: S): S {
    const metrics = this;
    return new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== 'function' || key === 'close' || typeof key !== 'string') return value;
        return async (...args: unknown[]) => {
          const end = metrics.storeCalls.startTimer({ op: key });
          try {
            const result = await value.apply(target, args);
            end({ outcome: 'ok' });
            return result;
          } catch (err) {
            const conflict = isOmakaseError(err, 'SESSION_STORE_CONFLICT');
            end({ outcome: conflict ? 'conflict' : 'failed' });
            if (!conflict) metrics.storeFailures.inc({ op: key });
            throw err;
          }
        };
      },
    });
  }

  /** The same engine, each decision (`next`) timed. */
  instrumentEngine(engine: Engine): Engine {
    const histogram = this.decisions;
    return new Proxy(engine, {
      get(target, key, receiver) {
        // A decision is a scored pool (`score`); the picks from it are cheap and not timed here.
        if (key !== 'score') return Reflect.get(target, key, receiver);
        const score: Engine['score'] = async (state, options) => {
          const end = histogram.startTimer();
          try {
            const result = await target.score(state, options);
            end({ outcome: 'ok' });
            return result;
          } catch (err) {
            end({ outcome: 'failed' });
            throw err;
          }
        };
        return score;
      },
    });
  }
}
