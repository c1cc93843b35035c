import { type Agent, request } from 'node:http';
import { expect } from 'vitest';
import { checkAlexaRules as alexaRules } from '../../../adapters/replay/alexaRules.ts';
import {
  type AlexaHandlerOptions,
  createAlexaHandler,
  UNVERIFIED,
  type VoiceResponse,
} from '../../../adapters/voice/alexaHandler.ts';
import type {
  AlexaResponseEnvelope,
  AudioDirective,
  PlayDirective,
} from '../../../adapters/voice/alexaResponse.ts';
import { parseStreamToken } from '../../../adapters/voice/streamToken.ts';
import { Catalog } from '../../../engine/catalog.ts';
import { createEngine, type Engine } from '../../../engine/engine.ts';
import type { CatalogRow } from '../../../engine/item.ts';
import { createFallbackScorer } from '../../../models/fallbackScorer.ts';
import { createMemoryStore } from '../../../sessions/memoryStore.ts';
import { createSessionManager } from '../../../sessions/sessionManager.ts';
import type { SeqFeedback, SessionService } from '../../../sessions/sessionService.ts';
import type { SessionStore } from '../../../sessions/sessionStore.ts';
import { smallCatalog } from '../../engine/fixtures.ts';
import { SKILL_ID } from './alexaRequests.ts';

/** The voice adapter over the real session manager, memory store and engine, plus checks on every answer. */

export const streamUrl = (itemId: string) =>
  `https://media.example.com/tracks/${encodeURIComponent(itemId)}.mp3`;

export const smallEngine = createEngine({
  catalog: smallCatalog({ items: 400, artists: 40 }),
  scorer: createFallbackScorer(),
});

/**
 * One artist with most of the catalog and no artist gap, so an item of the playing artist is often queued
 * next: what a thumbs-down withdraws (the default gap keeps same-artist items apart).
 */
export function oneArtistEngine(): Engine {
  const rows: CatalogRow[] = Array.from({ length: 120 }, (_, i) => {
    const artist = i < 100 ? 'Artist A' : i < 110 ? 'Artist B' : 'Artist C';
    return {
      id: `t${i}`,
      title: `Track ${i}`,
      artist,
      album: `${artist} ${i % 20}`,
      tags: ['rock', i % 2 ? 'calm' : 'upbeat'],
      durationMs: 200_000,
      year: 2000,
      popularity: 100 - (i % 100),
    };
  });
  return createEngine({
    catalog: new Catalog(rows),
    scorer: createFallbackScorer(),
    config: { artistGap: 0, albumGap: 0 },
  });
}

export interface Harness {
  service: SessionService;
  store: SessionStore;
  engine: Engine;
  errors: unknown[];
  /** Posts a raw body; for AudioPlayer/PlaybackController requests, checks Alexa's rules on the answer. */
  call(body: string): Promise<VoiceResponse>;
}

export const openServices: SessionService[] = [];

export function harness(
  engine: Engine = smallEngine,
  service?: SessionService,
  store?: SessionStore,
  options: Partial<AlexaHandlerOptions> = {},
): Harness {
  const theStore = store ?? createMemoryStore();
  const theService = service ?? createSessionManager({ engine, store: theStore, randomSeed: () => 7 });
  openServices.push(theService);
  const errors: unknown[] = [];
  const handler = createAlexaHandler({
    service: theService,
    catalog: engine.catalog,
    skillId: SKILL_ID,
    streamUrl,
    verify: UNVERIFIED,
    warn: () => {},
    random: seededRandom(1),
    onError: (err) => errors.push(err),
    ...options,
  });
  return {
    service: theService,
    store: theStore,
    engine,
    errors,
    async call(body) {
      const answer = await handler(body);
      if (answer.status === 200) checkAlexaRules(body, answer.body as AlexaResponseEnvelope);
      return answer;
    },
  };
}

/** A reproducible `Math.random` stand-in (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Alexa's response rules on one answer, as exact replay checks them (adapters/replay/alexaRules.ts): one Play,
 * https URLs, tokens, expectedPreviousToken on ENQUEUE only (and the token the request says plays), no speech
 * in an answer to an AudioPlayer or PlaybackController request, shouldEndSession with a Play.
 */
export function checkAlexaRules(requestBody: string, body: AlexaResponseEnvelope): void {
  expect(body.version).toBe('1.0');
  const broken = alexaRules([{ request: JSON.parse(requestBody), status: 200, body }]).filter((r) => !r.ok);
  expect(broken).toEqual([]);
}

export const directivesOf = (answer: VoiceResponse): AudioDirective[] =>
  (answer.body as AlexaResponseEnvelope).response.directives ?? [];

/** The one Play directive of an answer. */
export function playOf(answer: VoiceResponse): PlayDirective {
  const plays = directivesOf(answer).filter((d): d is PlayDirective => d.type === 'AudioPlayer.Play');
  expect(plays).toHaveLength(1);
  return plays[0];
}

export const tokenOf = (answer: VoiceResponse) => playOf(answer).audioItem.stream.token;
export const speechOf = (answer: VoiceResponse) =>
  (answer.body as AlexaResponseEnvelope).response.outputSpeech?.text;

/** The item id and seq a stream token names. */
export function refOf(token: string) {
  const ref = parseStreamToken(token);
  expect(ref).toBeDefined();
  return ref!;
}

/** The feedback the session logged, in order. */
export async function loggedFeedback(store: SessionStore, sessionId: string): Promise<SeqFeedback[]> {
  const events = await store.readEvents(sessionId);
  return events
    .filter((e) => e.event.type === 'user.feedback')
    .map((e) => (e.event as unknown as { feedback: SeqFeedback }).feedback);
}

/** One HTTP request to the voice endpoint, its JSON answer parsed (a body of bytes for malformed-input tests). */
export function postJson<T = unknown>(
  url: string,
  body: string | Buffer,
  options: { method?: string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<{ status: number; json: T; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', ...options.headers };
    const req = request(url, { method: options.method ?? 'POST', headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T,
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}
