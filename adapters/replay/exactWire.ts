import type { Engine } from '../../engine/engine.ts';
import { type ReplayReport, replaySession } from '../../sessions/replay.ts';
import type { SessionLogEvent } from '../../sessions/sessionStore.ts';
import { isVoiceLog, replayVoice } from './voiceReplay.ts';
import { replayWire, type WireReplay } from './wsReplay.ts';

/** The adapter half of an exact replay, as the CLI reports it. */
export interface ExactWire extends WireReplay {
  /** Every recorded frame came out identical, the adapter made every logged call, every invariant held. */
  ok: boolean;
  /** The type of the log event that carried the first divergent frame. */
  divergentEvent?: string;
}

/**
 * Runs `replayWire` on a log that recorded its frames; undefined for one that did not (older logs, sessions
 * served by an adapter that records nothing), which then replays at the session layer only.
 *
 * @example
 * const wire = await exactWire(events, engine, sessionId);
 * if (wire && !wire.ok) process.exitCode = 1;
 */
export async function exactWire(
  events: readonly SessionLogEvent[],
  engine: Engine,
  sessionId?: string,
): Promise<ExactWire | undefined> {
  if (!events.some((e) => Array.isArray(e.wire))) return undefined;
  const wire = isVoiceLog(events)
    ? await replayVoice(events, engine, { sessionId })
    : await replayWire(events, engine, { sessionId });
  const divergence = wire.firstFrameDivergence;
  return {
    ...wire,
    ok: divergence === null && wire.callMismatch === null && wire.deliveries.diverged === 0 && wire.frames.ok,
    divergentEvent: divergence ? events[divergence.logIndex]?.type : undefined,
  };
}

/**
 * An exact replay as `omakase replay` runs it: through the adapter that served the session when the log has
 * its frames (one walk, which also judges the session layer: `wire.session`), else at the session layer
 * alone. `ok` when every delivery, command, frame and invariant matched.
 */
export async function exactReplay(
  events: readonly SessionLogEvent[],
  engine: Engine,
  sessionId?: string,
): Promise<{ report: ReplayReport; wire?: ExactWire; ok: boolean }> {
  const wire = await exactWire(events, engine, sessionId);
  const report = wire?.session ?? (await replaySession(events, engine, { mode: 'exact' }));
  return { report, wire, ok: report.ok && (wire?.ok ?? true) };
}

/** The session-layer report's text with the adapter's lines added and the verdict made from both. */
export function withWire(text: string, wire: ExactWire): string {
  const lines = text.trimEnd().split('\n');
  const verdict = lines.pop() === 'REPLAY OK' && wire.ok ? 'REPLAY OK' : 'REPLAY DIVERGED';
  lines.push(
    wire.adapter === 'voice'
      ? `voice: ${wire.connections} device(s); answers ${wire.framesRecorded} recorded, ${wire.framesProduced} replayed, ${wire.framesMatched} identical (SHA-256)`
      : `wire: ${wire.connections} connection(s); frames ${wire.framesRecorded} recorded, ${wire.framesProduced} replayed, ${wire.framesMatched} identical (SHA-256)`,
  );
  lines.push(
    `invariants: ${wire.frames.results.map((r) => `${r.name} ${r.ok ? 'ok' : `BROKEN ×${r.broken}`}`).join(', ')}`,
  );
  for (const r of wire.frames.results) if (r.first) lines.push(`  ${r.name}: first at ${r.first}`);
  const d = wire.firstFrameDivergence;
  if (d) {
    const what =
      wire.adapter === 'voice' ? `device ${d.connection}, answer` : `connection ${d.connection}, frame`;
    lines.push(
      `first divergent ${wire.adapter === 'voice' ? 'answer' : 'frame'}: ${what} ${d.frame} (recorded with log event ${d.logIndex}, ${wire.divergentEvent ?? '?'})`,
    );
    if (d.input) lines.push(`  request:  ${d.input}`);
    lines.push(
      `  recorded: ${d.expected ? `${d.expected.type} sha256 ${d.expected.hash}` : '(no such frame)'}`,
    );
    lines.push(`  replayed: ${d.got ? `${d.got.type} sha256 ${d.got.hash} ${d.got.text}` : '(no frame)'}`);
  }
  if (wire.callMismatch) {
    const m = wire.callMismatch;
    lines.push(`adapter call at log event ${m.logIndex}: expected ${m.expected}, got ${m.got}`);
  }
  if (wire.deliveries.first) {
    const f = wire.deliveries.first;
    lines.push(`delivery through the adapter, log event ${f.logIndex}:`);
    lines.push(`  expected: ${f.expected.join(' ')}`);
    lines.push(`  got:      ${f.got.join(' ')}`);
  }
  lines.push(verdict);
  return `${lines.join('\n')}\n`;
}
