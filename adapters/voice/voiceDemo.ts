import type { Catalog } from '../../engine/catalog.ts';
import type { Steer } from '../../engine/session.ts';
import type { DeliveredItem, SeqFeedback, SessionService } from '../../sessions/sessionService.ts';
import { type AlexaHandler, createAlexaHandler, UNVERIFIED } from './alexaHandler.ts';
import type { AlexaResponseEnvelope, AudioDirective } from './alexaResponse.ts';
import { readInteractionModel } from './interactionModel.ts';
import { parseStreamToken } from './streamToken.ts';
import { createUtteranceMatcher, type Understood } from './utteranceMatcher.ts';

/** One line of the demo's answer to an utterance. */
export interface DemoTurn {
  said: string;
  /** The Alexa request it became: `LaunchRequest`, an intent name, or `wait` (the item played to its end). */
  request?: string;
  slots?: Record<string, string>;
  /** What Alexa would say. */
  speech?: string;
  /** What the session heard: the feedback and steers the turn sent, in order. */
  heard: string[];
  /** The item playing after the turn, and the one queued behind it, each with why it was picked. */
  playing?: DemoItem;
  queued?: DemoItem;
  paused: boolean;
  /** Set when nothing matched the utterance. */
  unknown?: true;
}

export interface DemoItem {
  seq: number;
  id: string;
  artist: string;
  title: string;
  tags: string[];
  /** Why the engine picked it: retrieval sources, score, rank, whether it explored. */
  why: string;
}

export interface VoiceDemoOptions {
  service: SessionService;
  catalog: Catalog;
  random?: () => number;
}

/** How far into an item each utterance comes (the simulated player's clock). */
const STEP_MS = 20_000;
const SKILL_ID = 'amzn1.ask.skill.omakase-voice-demo';
const USER = 'amzn1.ask.account.voice-demo';
const DEVICE = 'amzn1.ask.device.terminal';

/**
 * The voice path without Alexa: typed utterances become the requests Alexa would send (the shipped
 * interaction model's samples are the grammar), through the same handler, with a simulated AudioPlayer that
 * plays, enqueues and reports started / nearly finished / finished.
 */
export function createVoiceDemo(options: VoiceDemoOptions) {
  const { catalog } = options;
  const delivered = new Map<string, DeliveredItem>();
  let heard: string[] = [];
  // The session service as the handler sees it, noting what was delivered (for "why") and what was sent.
  const service: SessionService = {
    start: (r) => options.service.start(r),
    resume: (r) => options.service.resume(r),
    more: async (sessionId, connectionId, n) => {
      const items = await options.service.more(sessionId, connectionId, n);
      for (const item of items) delivered.set(`${sessionId}:${item.seq}`, item);
      return items;
    },
    feedback: (sessionId, connectionId, feedback: SeqFeedback) => {
      if (feedback.type !== 'started' && feedback.type !== 'completed')
        heard.push(
          `feedback ${feedback.type} #${feedback.seq}${'atMs' in feedback ? ` at ${feedback.atMs / 1000} s` : ''}`,
        );
      return options.service.feedback(sessionId, connectionId, feedback);
    },
    steer: (sessionId, connectionId, steer: Steer) => {
      heard.push(`steer ${JSON.stringify(steer)}`);
      return options.service.steer(sessionId, connectionId, steer);
    },
    pause: (s, c) => options.service.pause(s, c),
    play: (s, c) => options.service.play(s, c),
    end: (s, c) => options.service.end(s, c),
    disconnected: (s, c) => options.service.disconnected(s, c),
    subscribe: (s, l) => options.service.subscribe(s, l),
    close: () => options.service.close(),
  };
  const handler: AlexaHandler = createAlexaHandler({
    service,
    catalog,
    skillId: SKILL_ID,
    // Nothing is streamed: the URL only has to be one Alexa would take.
    streamUrl: (id) => `https://stream.invalid/${encodeURIComponent(id)}`,
    verify: UNVERIFIED,
    warn: () => {},
    random: options.random,
    onError: () => {},
  });
  const understand = createUtteranceMatcher(readInteractionModel());
  const player = {
    playing: undefined as string | undefined,
    queued: undefined as string | undefined,
    offsetMs: 0,
    paused: false,
  };

  let requestNo = 0;
  function envelope(request: Record<string, unknown>): string {
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return JSON.stringify({
      version: '1.0',
      context: {
        ...(player.playing
          ? {
              AudioPlayer: {
                token: player.playing,
                offsetInMilliseconds: player.offsetMs,
                playerActivity: player.paused ? 'STOPPED' : 'PLAYING',
              },
            }
          : {}),
        System: {
          application: { applicationId: SKILL_ID },
          user: { userId: USER },
          device: { deviceId: DEVICE, supportedInterfaces: { AudioPlayer: {} } },
        },
      },
      request: { requestId: `demo.${++requestNo}`, timestamp: at, locale: 'en-US', ...request },
    });
  }

  async function send(request: Record<string, unknown>): Promise<AlexaResponseEnvelope> {
    const { body } = await handler(envelope(request));
    if (!('response' in body)) throw new Error(`the handler refused the request: ${body.error.code}`);
    return body;
  }

  const audio = (type: string, token: string, offset = player.offsetMs) =>
    send({ type: `AudioPlayer.${type}`, token, offsetInMilliseconds: offset });

  /** What the simulated AudioPlayer does with an answer's directives. */
  async function apply(directives: AudioDirective[]): Promise<void> {
    for (const d of directives) {
      if (d.type === 'AudioPlayer.Stop') {
        if (player.playing && !player.paused) await audio('PlaybackStopped', player.playing);
        player.paused = true;
      } else if (d.type === 'AudioPlayer.ClearQueue') {
        player.queued = undefined;
      } else if (d.playBehavior === 'REPLACE_ALL') {
        player.playing = d.audioItem.stream.token;
        player.offsetMs = d.audioItem.stream.offsetInMilliseconds;
        player.queued = undefined;
        player.paused = false;
        await started();
      } else if (d.playBehavior === 'ENQUEUE') {
        if (d.audioItem.stream.expectedPreviousToken === player.playing)
          player.queued = d.audioItem.stream.token;
      } else {
        player.queued = d.audioItem.stream.token;
      }
    }
  }

  /** Like a real device, the player asks for the next item soon after one starts (to buffer it). */
  async function started(): Promise<void> {
    const token = player.playing;
    if (!token) return;
    await audio('PlaybackStarted', token, player.offsetMs);
    if (player.queued) return;
    await apply((await audio('PlaybackNearlyFinished', token, player.offsetMs)).response.directives ?? []);
  }

  /** The playing item reaches its end: nearly finished (the next one is enqueued), finished, the next starts. */
  async function playToEnd(): Promise<void> {
    const token = player.playing;
    if (!token || player.paused) return;
    const ref = parseStreamToken(token);
    const durationMs = (ref?.itemId && catalog.get(ref.itemId)?.durationMs) || 180_000;
    if (!player.queued)
      await apply(
        (await audio('PlaybackNearlyFinished', token, durationMs - 10_000)).response.directives ?? [],
      );
    await audio('PlaybackFinished', token, durationMs);
    player.playing = player.queued;
    player.queued = undefined;
    player.offsetMs = 0;
    await started();
  }

  function describe(token: string | undefined): DemoItem | undefined {
    const ref = token ? parseStreamToken(token) : undefined;
    if (!ref?.itemId) return undefined;
    const item = catalog.get(ref.itemId);
    const pick = delivered.get(`${ref.sessionId}:${ref.seq}`);
    const r = pick?.reasons;
    const why = r
      ? `${r.source.join('+')}, score ${r.score.toFixed(2)}, rank ${r.rank}${r.explored ? ', explored' : ''}${pick.degraded ? ', degraded' : ''}`
      : 'picked earlier';
    return {
      seq: ref.seq,
      id: ref.itemId,
      artist: item?.artist ?? '?',
      title: item?.title ?? '?',
      tags: item?.tags ?? [],
      why,
    };
  }

  /** Answers one utterance. */
  async function say(utterance: string): Promise<DemoTurn> {
    heard = [];
    const said = utterance.trim();
    let understood: Understood | 'wait' | undefined;
    if (/^(wait|\(wait\)|\.\.\.)$/i.test(said)) understood = 'wait';
    else understood = understand(said);
    const turn: DemoTurn = { said, heard, paused: false };
    if (understood === undefined) {
      turn.unknown = true;
      turn.speech = "Sorry, I didn't get that. Say help to hear what I understand.";
    } else if (understood === 'wait') {
      turn.request = 'wait';
      await playToEnd();
    } else {
      if (player.playing && !player.paused) player.offsetMs += STEP_MS;
      let answer: AlexaResponseEnvelope;
      if (understood.type === 'LaunchRequest') {
        turn.request = 'LaunchRequest';
        answer = await send({ type: 'LaunchRequest' });
      } else {
        turn.request = understood.intent;
        turn.slots = Object.fromEntries(
          Object.entries(understood.slots).map(([k, v]) => [k, v.resolved ?? v.heard]),
        );
        const slots = Object.fromEntries(
          Object.entries(understood.slots).map(([name, { heard, resolved }]) => [
            name,
            {
              name,
              value: heard,
              ...(resolved
                ? {
                    resolutions: {
                      resolutionsPerAuthority: [
                        { status: { code: 'ER_SUCCESS_MATCH' }, values: [{ value: { name: resolved } }] },
                      ],
                    },
                  }
                : {}),
            },
          ]),
        );
        answer = await send({ type: 'IntentRequest', intent: { name: understood.intent, slots } });
      }
      turn.speech = answer.response.outputSpeech?.text;
      await apply(answer.response.directives ?? []);
      if (turn.request === 'AMAZON.StopIntent' || turn.request === 'AMAZON.CancelIntent') {
        // The stream is over: the device forgets it, as Alexa's player does.
        player.playing = undefined;
        player.queued = undefined;
        player.paused = false;
      }
    }
    turn.playing = describe(player.playing);
    turn.queued = describe(player.queued);
    turn.paused = player.paused;
    return turn;
  }

  return { say };
}

/** A turn as the terminal shows it. */
export function formatTurn(turn: DemoTurn): string {
  const lines = [`> ${turn.said}`];
  const item = (i: DemoItem) => `#${i.seq} ${i.artist} - ${i.title}  [${i.tags.join('/')}]  (${i.why})`;
  if (turn.unknown) lines.push('  (no intent matched)');
  else if (turn.request) {
    const slots = turn.slots && Object.keys(turn.slots).length > 0 ? ` ${JSON.stringify(turn.slots)}` : '';
    lines.push(`  request: ${turn.request}${slots}`);
  }
  if (turn.speech) lines.push(`  alexa: "${turn.speech}"`);
  for (const h of turn.heard) lines.push(`  session: ${h}`);
  if (turn.playing) lines.push(`  ${turn.paused ? 'paused ' : 'playing'}: ${item(turn.playing)}`);
  else lines.push('  playing: nothing');
  if (turn.queued) lines.push(`  queued : ${item(turn.queued)}`);
  return lines.join('\n');
}
