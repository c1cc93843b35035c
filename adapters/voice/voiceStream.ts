import type { Catalog } from '../../engine/catalog.ts';
import type { Intent } from '../../engine/session.ts';
import { isOmakaseError } from '../../models/omakaseError.ts';
import type { DeliveredItem, SessionService } from '../../sessions/sessionService.ts';
import {
  type AudioDirective,
  MAX_STREAM_URL_CHARS,
  type PlayBehavior,
  playDirective,
} from './alexaResponse.ts';
import { voiceError } from './errors.ts';
import type { PlaybackMemory, TokenEntry } from './playbackMemory.ts';
import { formatStreamToken, parseStreamToken } from './streamToken.ts';

/** Session codes that mean the stream's session is over: a new one takes its place. */
export const GONE_CODES: ReadonlySet<string> = new Set([
  'SESSION_NOT_FOUND',
  'SESSION_EXPIRED',
  'SESSION_ENDED',
]);
export const isGone = (err: unknown) => isOmakaseError(err) && GONE_CODES.has(err.code);

export interface VoiceStreamOptions {
  service: SessionService;
  catalog: Catalog;
  /** The URL of an item without its own `streamUrl` in the catalog. */
  streamUrl?: (itemId: string) => string;
  memory: PlaybackMemory;
  /** The intent of a stream started without one ("play music"), so openings vary. */
  opening: () => Intent;
  /** Failures that are swallowed (ending an old session) go here. */
  report: (err: unknown) => void;
}

/**
 * The stream side of the voice adapter: tokens ↔ session items, the follower of each token taken once
 * (idempotent enqueues), new sessions for a device, and Play directives with checked https URLs.
 */
export function createVoiceStream(options: VoiceStreamOptions) {
  const { service, memory, report } = options;

  function streamUrl(itemId: string): string {
    const url = options.catalog.get(itemId)?.streamUrl ?? options.streamUrl?.(itemId);
    if (url === undefined) {
      throw voiceError(
        'VOICE_STREAM_URL_INVALID',
        `Item ${itemId} has no streamUrl in the catalog and no stream URL template is configured.`,
      );
    }
    if (!URL.canParse(url) || new URL(url).protocol !== 'https:' || url.length > MAX_STREAM_URL_CHARS) {
      throw voiceError(
        'VOICE_STREAM_URL_INVALID',
        `The stream URL for ${itemId} ("${url.slice(0, 80)}") is not https or longer than ${MAX_STREAM_URL_CHARS} characters; Alexa would refuse it.`,
      );
    }
    return url;
  }

  /** Entries are per device: a token presented by another device never reaches this device's entry. */
  const key = (connectionId: string, token: string) => `${connectionId} ${token}`;

  /** Registers a delivered item under its new token. */
  function remember(sessionId: string, item: DeliveredItem, connectionId: string): TokenEntry {
    const ref = { sessionId, seq: item.seq, itemId: item.id };
    const entry: TokenEntry = {
      token: formatStreamToken(ref),
      ref,
      title: item.title,
      subtitle: item.artist,
    };
    memory.tokens.set(key(connectionId, entry.token), entry);
    return entry;
  }

  /** The entry for a token: remembered, or read back from the token's own text (another node made it). */
  function entryFor(token: string | undefined, connectionId: string): TokenEntry | undefined {
    if (!token) return undefined;
    const known = memory.tokens.get(key(connectionId, token));
    if (known) return known;
    const ref = parseStreamToken(token);
    if (!ref) return undefined;
    const entry: TokenEntry = { token, ref };
    memory.tokens.set(key(connectionId, token), entry);
    return entry;
  }

  /** The entry for `token`, or for the one this device last started. */
  const current = (connectionId: string, token: string | undefined) =>
    // A token that is not ours (another skill's, garbled) falls back to the device's own stream.
    entryFor(token, connectionId) ?? entryFor(memory.devices.get(connectionId)?.token, connectionId);

  /** Marks `entry` as what the device plays now. */
  function playing(connectionId: string, entry: TokenEntry): void {
    memory.devices.set(connectionId, { sessionId: entry.ref.sessionId, token: entry.token });
  }

  function play(behavior: PlayBehavior, entry: TokenEntry, offsetMs = 0, previous?: string): AudioDirective {
    const { itemId } = entry.ref;
    if (itemId === undefined) throw new Error(`Stream token ${entry.token} names no item to play.`);
    return playDirective(
      behavior,
      { token: entry.token, url: streamUrl(itemId), offsetMs, title: entry.title, subtitle: entry.subtitle },
      previous,
    );
  }

  /** Ends the device's session, if it has one (a new launch, "stop"). */
  async function endFor(connectionId: string, sessionId = memory.devices.get(connectionId)?.sessionId) {
    memory.devices.delete(connectionId);
    if (sessionId) await service.end(sessionId, connectionId).catch(report);
  }

  /** A new session for this device and its first item (undefined when the catalog allows nothing). */
  async function openStream(connectionId: string, intent?: Intent): Promise<TokenEntry | undefined> {
    await endFor(connectionId);
    const { sessionId } = await service.start({ connectionId, intent: intent ?? options.opening() });
    const [item] = await service.more(sessionId, connectionId, 1);
    if (!item) return undefined;
    const entry = remember(sessionId, item, connectionId);
    playing(connectionId, entry);
    return entry;
  }

  /**
   * The session's next item after `entry`. A session that is gone is replaced so the stream goes on, but only
   * when it is the device's current one (or the device has none): a late request about an older stream must
   * not end the stream the device plays now.
   */
  async function takeNext(entry: TokenEntry, connectionId: string): Promise<TokenEntry | undefined> {
    try {
      const [item] = await service.more(entry.ref.sessionId, connectionId, 1);
      return item ? remember(entry.ref.sessionId, item, connectionId) : undefined;
    } catch (err) {
      if (!isGone(err)) throw err;
      const device = memory.devices.get(connectionId);
      if (device && device.sessionId !== entry.ref.sessionId) return undefined;
      return openStream(connectionId);
    }
  }

  /** The device's session, if it has one the adapter knows of. */
  const sessionOf = (connectionId: string) => memory.devices.get(connectionId)?.sessionId;

  /** The item that follows `entry`, taken once per token: repeats (even concurrent ones) get the same one. */
  function nextAfter(entry: TokenEntry, connectionId: string): Promise<TokenEntry | undefined> {
    if (!entry.next) {
      const next = takeNext(entry, connectionId);
      entry.next = next;
      const forget = () => {
        if (entry.next === next) entry.next = undefined;
      };
      void next.then((found) => found ?? forget(), forget);
    }
    return entry.next;
  }

  /** Drops the queued follower if the session withdrew it; true when it did. */
  async function dropIfWithdrawn(entry: TokenEntry, invalidated: number[]): Promise<boolean> {
    const pending = entry.next;
    const queued = pending ? await pending.catch(() => undefined) : undefined;
    if (!queued || !invalidated.includes(queued.ref.seq)) return false;
    if (entry.next === pending) entry.next = undefined;
    return true;
  }

  return { entryFor, current, playing, play, endFor, openStream, nextAfter, dropIfWithdrawn, sessionOf };
}

export type VoiceStream = ReturnType<typeof createVoiceStream>;
