/**
 * `npm run bench:replay`: exact replay speed on one core. Replays the golden radio session (test/golden,
 * recorded on the demo catalog and model by `npm run golden`) over and over, the session layer alone
 * (`replaySession`, what a log without frames gets) and through the WebSocket adapter (`replayWire`: what
 * `omakase replay` runs on a log with frames, one walk that judges the session layer, the frames and the
 * invariants), and reports log events (the log's entries) per second. Each mode runs in a process of its own,
 * as `omakase replay` does: run one after another in one process, the later modes ran up to a third slower
 * (the earlier mode's code paths and heap shape what the JIT and the collector do for them), which measured
 * the order, not the replay. Last line: one JSON object.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readLogFile } from '../adapters/cli/commands/replayCommand.ts';
import { replayVoice } from '../adapters/replay/voiceReplay.ts';
import { replayWire } from '../adapters/replay/wsReplay.ts';
import { loadRuntime } from '../adapters/runtime.ts';
import { replaySession } from '../sessions/replay.ts';

const file = fileURLToPath(new URL('../test/golden/radio.jsonl', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const MODES = ['session', 'wire', 'voice'] as const;
type Mode = (typeof MODES)[number];
const mode = process.env.REPLAY_BENCH_MODE as Mode | undefined;

if (mode === undefined) {
  const rates: Partial<Record<Mode, number>> = {};
  let events = 0;
  for (const m of MODES) {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url)],
      { env: { ...process.env, REPLAY_BENCH_MODE: m } },
    );
    const lines = stdout.trim().split('\n');
    process.stdout.write(`${lines.slice(0, -1).join('\n')}\n`);
    const result = JSON.parse(lines.at(-1) as string) as { perSecond: number; events: number };
    rates[m] = result.perSecond;
    if (m === 'session') events = result.events;
  }
  process.stdout.write(
    `${JSON.stringify({ bench: 'replay', file: 'test/golden/radio.jsonl', events, sessionEventsPerSecond: rates.session, wireEventsPerSecond: rates.wire, exactEventsPerSecond: rates.wire, voiceEventsPerSecond: rates.voice, goal: 10_000 })}\n`,
  );
} else {
  const events = await readLogFile(file);
  const voiceEvents = await readLogFile(
    fileURLToPath(new URL('../test/golden/voice.jsonl', import.meta.url)),
  );
  const runtime = await loadRuntime({});
  const rate = async (what: string, once: () => Promise<boolean>, count: number) => {
    for (let i = 0; i < 5; i++) if (!(await once())) throw new Error(`${what}: the golden session diverged`);
    // A second of warm-up: the figure is the steady rate of a bulk replay, once the JIT has optimised it.
    for (const warm = performance.now(); performance.now() - warm < 1000; ) await once();
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      await once();
      runs++;
    }
    const ms = performance.now() - start;
    const perSecond = Math.round((runs * count * 1000) / ms);
    process.stdout.write(
      `${what}: ${runs} replays of ${count} events in ${(ms / 1000).toFixed(1)} s: ${perSecond} events/s\n`,
    );
    process.stdout.write(`${JSON.stringify({ perSecond, events: count })}\n`);
  };
  // An adapter's replay is exact when no frame and no call diverged.
  const exact = (r: { firstFrameDivergence: unknown; callMismatch: unknown }) =>
    r.firstFrameDivergence === null && r.callMismatch === null;
  if (mode === 'session')
    await rate(
      'session layer (replaySession)',
      async () => (await replaySession(events, runtime.engine)).ok,
      events.length,
    );
  else if (mode === 'wire')
    await rate(
      'session + ws adapter (replayWire)',
      async () => exact(await replayWire(events, runtime.engine)),
      events.length,
    );
  else
    await rate(
      'voice golden, session + Alexa handler (replayVoice)',
      async () => exact(await replayVoice(voiceEvents, runtime.engine)),
      voiceEvents.length,
    );
}
