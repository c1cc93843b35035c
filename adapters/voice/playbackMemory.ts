import type { StreamRef } from './streamToken.ts';

/** What the adapter remembers about one stream token it handed to Alexa. */
export interface TokenEntry {
  token: string;
  ref: StreamRef;
  title?: string;
  subtitle?: string;
  /** Where playback stopped (PlaybackStopped, pause); resume plays from here once, then it is stale. */
  offsetMs?: number;
  /**
   * The item handed to Alexa to follow this one (ENQUEUE, REPLACE_ENQUEUED, or the REPLACE_ALL after a skip).
   * Kept as the promise so a repeated or concurrent PlaybackNearlyFinished gets the same item, not a new one.
   */
  next?: Promise<TokenEntry | undefined>;
  /**
   * The item a skip of this one started. A second "next" that still names this token (the player has not yet
   * reported the new item) skips that item instead of repeating the first skip.
   */
  skippedTo?: TokenEntry;
}

/** The session a device is listening to, and the token it last started. */
export interface DeviceEntry {
  sessionId: string;
  token: string;
}

/** A bounded least-recently-used map whose entries also expire `ttlMs` after their last use. */
class LruMap<V> {
  readonly #entries = new Map<string, { value: V; at: number }>();
  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (this.now() - entry.at > this.ttlMs) return undefined;
    entry.at = this.now();
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: this.now() });
    // Map keeps insertion order, so the first key is the least recently used.
    while (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

export interface PlaybackMemoryOptions {
  /** Tokens remembered (default 10 000); a forgotten token is read back from its text. */
  maxTokens?: number;
  /** Devices remembered (default 10 000). */
  maxDevices?: number;
  /** Entries unused this long are forgotten (default 12 h). */
  ttlMs?: number;
  now?: () => number;
}

/**
 * The voice adapter's per-process memory: token → entry (idempotent enqueues, stop offsets, display text)
 * and device → current session. Bounded; losing it (restart, another node) costs idempotency of a repeated
 * PlaybackNearlyFinished and the stop offset (Alexa's own `context.AudioPlayer` offset is used instead).
 */
export function createPlaybackMemory(options: PlaybackMemoryOptions = {}) {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 12 * 3_600_000;
  const tokens = new LruMap<TokenEntry>(options.maxTokens ?? 10_000, ttlMs, now);
  const devices = new LruMap<DeviceEntry>(options.maxDevices ?? 10_000, ttlMs, now);
  // A request Alexa sends again (same requestId) gets the first answer (its JSON text): a retried "next" is
  // one skip.
  const answers = new LruMap<Promise<string>>(1_000, 60_000, now);
  return { tokens, devices, answers };
}

export type PlaybackMemory = ReturnType<typeof createPlaybackMemory>;
