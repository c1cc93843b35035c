import type { Steer } from '../../engine/session.ts';
import type { SeqFeedback, SessionService } from '../../sessions/sessionService.ts';
import type { AlexaRequestEnvelope } from './alexaRequest.ts';
import { type AudioDirective, clearEnqueuedDirective, stopDirective } from './alexaResponse.ts';
import type { TokenEntry } from './playbackMemory.ts';
import type { VoiceStream } from './voiceStream.ts';

export interface PlayerCommandsOptions {
  service: SessionService;
  stream: VoiceStream;
  /** Failures that must not stop the command (a refused skip still skips). */
  report: (err: unknown) => void;
}

/**
 * What a listener does to the stream, by voice or by button, as session calls and AudioPlayer directives:
 * skip, pause, resume, stop, feedback and steering on what plays now.
 */
export function createPlayerCommands(options: PlayerCommandsOptions) {
  const { service, stream, report } = options;
  const { playing, play, openStream, nextAfter, dropIfWithdrawn } = stream;

  /** What this device plays now: the request's token, the player's, or the one it last started. */
  const current = (env: AlexaRequestEnvelope, connectionId: string) =>
    stream.current(connectionId, env.request.token || env.context.AudioPlayer?.token);

  async function feedback(entry: TokenEntry | undefined, connectionId: string, fb: SeqFeedback['type']) {
    if (!entry) return;
    const { sessionId, seq } = entry.ref;
    await service.feedback(sessionId, connectionId, { type: fb, seq } as SeqFeedback).catch(report);
  }

  async function skip(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    let entry = current(env, connectionId);
    if (!entry) {
      const first = await openStream(connectionId);
      return first ? [play('REPLACE_ALL', first)] : [];
    }
    let atMs = env.context.AudioPlayer?.offsetInMilliseconds ?? 0;
    // "Next" again before the player reported the item the first "next" started: skip that item.
    for (let hops = 0; entry.skippedTo && hops < 16; hops++) {
      entry = entry.skippedTo;
      atMs = 0;
    }
    try {
      const changed = await service.feedback(entry.ref.sessionId, connectionId, {
        type: 'skipped',
        seq: entry.ref.seq,
        atMs,
      });
      await dropIfWithdrawn(entry, changed.invalidated);
    } catch (err) {
      // A refused skip must not stop the skip itself.
      report(err);
    }
    const next = await nextAfter(entry, connectionId);
    if (!next) return [];
    entry.skippedTo = next;
    playing(connectionId, next);
    return [play('REPLACE_ALL', next)];
  }

  async function pause(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    const entry = current(env, connectionId);
    if (entry) {
      entry.offsetMs = env.context.AudioPlayer?.offsetInMilliseconds ?? entry.offsetMs;
      await service.pause(entry.ref.sessionId, connectionId).catch(report);
    }
    return [stopDirective()];
  }

  async function resume(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    const entry = current(env, connectionId);
    if (!entry || entry.ref.itemId === undefined) {
      const first = await openStream(connectionId);
      return first ? [play('REPLACE_ALL', first)] : [];
    }
    await service.play(entry.ref.sessionId, connectionId).catch(report);
    playing(connectionId, entry);
    // The remembered stop offset is used once: after it played again, the player's own report is newer.
    const offsetMs = entry.offsetMs ?? env.context.AudioPlayer?.offsetInMilliseconds ?? 0;
    entry.offsetMs = undefined;
    return [play('REPLACE_ALL', entry, offsetMs)];
  }

  async function stop(env: AlexaRequestEnvelope, connectionId: string): Promise<AudioDirective[]> {
    await stream.endFor(connectionId, current(env, connectionId)?.ref.sessionId);
    return [stopDirective()];
  }

  /** Feedback or steering on `entry`, then a fresh queued item if the session withdrew the one Alexa holds. */
  async function changeOn(
    entry: TokenEntry,
    connectionId: string,
    how: 'liked' | 'disliked' | Steer,
  ): Promise<AudioDirective[]> {
    const { sessionId, seq } = entry.ref;
    const { invalidated } =
      typeof how === 'string'
        ? await service.feedback(sessionId, connectionId, { type: how, seq })
        : await service.steer(sessionId, connectionId, how);
    if (!(await dropIfWithdrawn(entry, invalidated))) return [];
    const fresh = await nextAfter(entry, connectionId);
    // Nothing fits any more: the withdrawn item must not play either.
    return [fresh ? play('REPLACE_ENQUEUED', fresh) : clearEnqueuedDirective()];
  }

  return { current, feedback, skip, pause, resume, stop, changeOn };
}
