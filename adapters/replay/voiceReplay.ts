import type { Engine } from '../../engine/engine.ts';
import { sessionError } from '../../sessions/errors.ts';
import { exactReport } from '../../sessions/replay.ts';
import { createReplayService } from '../../sessions/replayService.ts';
import { type LogInput, readLog } from '../../sessions/sessionLog.ts';
import type { SessionService } from '../../sessions/sessionService.ts';
import { createAlexaHandler, UNVERIFIED, type VoiceResponse } from '../voice/alexaHandler.ts';
import { streamUrlTemplate } from '../voice/voiceEndpoint.ts';
import {
  responseHash,
  VOICE_KINDS,
  type VoiceOpened,
  type VoiceRequestRecord,
} from '../voice/voiceRecorder.ts';
import { checkAlexaRules } from './alexaRules.ts';
import { checkPlayed } from './frameInvariants.ts';
import { compareDeliveries, type FrameDivergence, type WireReplay, wireRecords } from './wsReplay.ts';

/** True when the log holds the voice adapter's records. */
export function isVoiceLog(events: LogInput): boolean {
  return wireRecords(readLog(events)).some((r) => (VOICE_KINDS as readonly string[]).includes(r.kind));
}

/**
 * Exact replay of a voice session: the real Alexa handler (`createAlexaHandler`: parsing, the stream and its
 * tokens, the player commands, the response envelopes) called in process with each request envelope the log
 * recorded, in front of the session machine driven by the log (`createReplayService`), on the logged clock.
 * Every answer is hashed as the live endpoint hashed it and compared in order; the Alexa rules are checked
 * on the answers (`checkAlexaRules`).
 *
 * A `voice` record after the first says the endpoint started afresh (a restart, another node): the replay
 * does too, with a new handler and its empty memory, before the next request.
 *
 * Request verification is bypassed (`UNVERIFIED`), on purpose: the log keeps neither the signature headers nor
 * the ids they sign, and only requests the live endpoint accepted were recorded (`VoiceOpened.verified` says
 * whether it checked them). Calls on another session than the log's (the end of the device's previous stream
 * on a new launch) are refused as gone, as that session was by then; a `user.end` no recorded request made
 * (the device launched a new stream, recorded in that stream's log) is applied from the log.
 *
 * @example
 * const voice = await replayVoice(await store.readEvents(id), engine);
 * if (voice.firstFrameDivergence) console.log(voice.firstFrameDivergence);
 */
export async function replayVoice(
  events: LogInput,
  engine: Engine,
  options: { sessionId?: string } = {},
): Promise<WireReplay> {
  const log = readLog(events);
  const records = wireRecords(log);
  const opened = records.find((r) => r.kind === 'voice')?.payload as VoiceOpened | undefined;
  const requests = records.filter((r) => r.kind === 'req');
  const recorded = records.filter((r) => r.kind === 'res');
  const sessionId = opened?.sessionId ?? options.sessionId ?? 'replay';
  const replay = createReplayService(log, engine, { sessionId, graceMs: 120_000 });

  const gone = () =>
    Promise.reject(sessionError('SESSION_NOT_FOUND', `Replay of ${sessionId}: another session's call.`));
  const base = replay.service;
  const only =
    <A extends unknown[], R>(call: (s: string, c: string, ...rest: A) => Promise<R>) =>
    (s: string, c: string, ...rest: A): Promise<R> =>
      s === sessionId ? call(s, c, ...rest) : (gone() as Promise<R>);
  const service: SessionService = {
    ...base,
    more: only(base.more),
    feedback: only(base.feedback),
    steer: only(base.steer),
    pause: only(base.pause),
    play: only(base.play),
    end: only(base.end),
    disconnected: (s, c) => (s === sessionId ? base.disconnected(s, c) : undefined),
  };
  const firstBody = requests[0] && (requests[0].payload as VoiceRequestRecord).body;
  const skillId =
    opened?.skillId ??
    (firstBody ? JSON.parse(firstBody).context?.System?.application?.applicationId : undefined) ??
    'replay';
  let clock = log.start.atMs;
  const newHandler = () =>
    createAlexaHandler({
      service,
      catalog: engine.catalog,
      skillId,
      streamUrl: opened?.streamUrlTemplate ? streamUrlTemplate(opened.streamUrlTemplate) : undefined,
      verify: UNVERIFIED,
      warn: () => {},
      onError: () => {},
      // The opening item a new stream draws is not used: the session starts as logged.
      random: () => 0,
      now: () => clock,
    });
  let handler = newHandler();
  /** Requests before which the live endpoint had started afresh (a later `voice` record: a restart). */
  const restartedAt = new Set<number>();
  let seen = 0;
  for (const r of records) {
    if (r.kind === 'req') seen++;
    else if (r.kind === 'voice' && seen > 0) restartedAt.add(seen);
  }

  const answers: (VoiceResponse | undefined)[] = [];
  const running: Promise<void>[] = [];
  let next = 0;
  const callMismatch = await replay.walk({
    feed() {
      const r = requests[next];
      if (!r) return false;
      const k = next++;
      if (restartedAt.has(k)) handler = newHandler();
      const { atMs, body } = r.payload as VoiceRequestRecord;
      clock = atMs;
      running.push(
        handler(body).then((answer) => {
          answers[k] = answer;
        }),
      );
      return true;
    },
    settle: () => new Promise((resolve) => setImmediate(resolve)),
    unprompted: (type) => type === 'user.end',
  });
  // Whatever the handler still asks has no answer in the log: the session is over there.
  replay.refuseRest(sessionError('SESSION_ENDED', `Replay of ${sessionId}: the log ends here.`));
  await Promise.all(running);
  replay.stop();

  const requestText = (k: number) => (requests[k]?.payload as VoiceRequestRecord | undefined)?.body;
  const requestType = (k: number) => {
    const text = requestText(k);
    if (!text) return '?';
    const { request } = JSON.parse(text) as { request: { type: string; intent?: { name?: string } } };
    return request.type === 'IntentRequest' ? (request.intent?.name ?? request.type) : request.type;
  };
  let matched = 0;
  let divergence: FrameDivergence | null = null;
  recorded.forEach((want, k) => {
    const [status, hash] = want.payload as [number, string];
    const answer = answers[k];
    const got = answer && responseHash(answer);
    if (got && got[0] === status && got[1] === hash) {
      matched++;
      return;
    }
    divergence ??= {
      frame: k,
      connection: want.c,
      logIndex: want.logIndex,
      expected: { type: `${requestType(k)} ${status}`, hash },
      got:
        answer && got
          ? { type: `${requestType(k)} ${got[0]}`, hash: got[1], text: JSON.stringify(answer.body) }
          : null,
      input: requestText(k),
    };
  });
  // What played: the items the handler was given, less those a later answer withdrew (logged `withdrawn`).
  const withdrawn = new Set(
    log.entries.flatMap(({ entry }) => (entry as { withdrawn?: number[] }).withdrawn ?? []),
  );
  const played = replay.deliveries
    .flatMap((d) => d.got)
    .filter((d): d is NonNullable<typeof d> => d != null && !withdrawn.has(d.seq))
    .map((d) => ({ seq: d.seq, item: d }));
  const streamRules = checkPlayed(played, { profile: log.start.profile });
  const results = checkAlexaRules(
    requests.flatMap((r, k) => {
      const answer = answers[k];
      if (!answer) return [];
      const request = JSON.parse((r.payload as VoiceRequestRecord).body);
      return [{ request, status: answer.status, body: answer.body }];
    }),
  );
  return {
    adapter: 'voice',
    recorded: requests.length > 0,
    connections: new Set(requests.map((r) => r.c)).size,
    framesRecorded: recorded.length,
    framesProduced: answers.filter(Boolean).length,
    framesMatched: matched,
    firstFrameDivergence: divergence,
    callMismatch: callMismatch ?? null,
    deliveries: compareDeliveries(replay.deliveries),
    delivered: replay.deliveries.flatMap((d) => d.got),
    frames: {
      results: [...streamRules, ...results],
      ok: [...streamRules, ...results].every((r) => r.ok),
    },
    events: log.entries.length + 1 + records.length,
    session: exactReport(log, engine, replay),
  };
}
