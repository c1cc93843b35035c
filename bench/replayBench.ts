/**
 * `npm run bench:replay`: exact replay speed on one core. Replays the golden radio session (test/golden,
 * recorded on the demo catalog and model by `npm run golden`) over and over, the session layer alone
 * (`replaySession`, what a log without frames gets) and through the WebSocket adapter (`replayWire`: what
 * `omakase replay` runs on a log with frames, one walk that judges the session layer, the frames and the
 * invariants), and reports log events (the log's entries) per second. Last line: one JSON object.
 */
import { fileURLToPath } from 'node:url';
import { readLogFile } from '../adapters/cli/commands/replayCommand.ts';
import { replayVoice } from '../adapters/replay/voiceReplay.ts';
import { replayWire } from '../adapters/replay/wsReplay.ts';
import { loadRuntime } from '../adapters/runtime.ts';
import { replaySession } from '../sessions/replay.ts';

const file = fileURLToPath(new URL('../test/golden/radio.jsonl', import.meta.url));
const events = await readLogFile(file);
const voiceEvents = await readLogFile(fileURLToPath(new URL('../test/golden/voice.jsonl', import.meta.url)));
const runtime = await loadRuntime({});
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

async function rate(what: string, once: () => Promise<boolean>, count = events.length) {
  for (let i = 0; i < 5; i++) if (!(await once())) throw new Error(`${what}: the golden session diverged`);
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await once();
    runs++;
  }
  const ms = performance.now() - start;
  const perSecond = (runs * count * 1000) / ms;
  process.stdout.write(
    `${what}: ${runs} replays of ${count} events in ${(ms / 1000).toFixed(1)} s: ${Math.round(perSecond)} events/s\n`,
  );
  return Math.round(perSecond);
}

const session = await rate(
  'session layer (replaySession)',
  async () => (await replaySession(events, runtime.engine)).ok,
);
const wire = await rate('session + ws adapter (replayWire)', async () => {
  const r = await replayWire(events, runtime.engine);
  return r.firstFrameDivergence === null && r.callMismatch === null;
});
const voice = await rate(
  'voice golden, session + Alexa handler (replayVoice)',
  async () => {
    const r = await replayVoice(voiceEvents, runtime.engine);
    return r.firstFrameDivergence === null && r.callMismatch === null;
  },
  voiceEvents.length,
);
process.stdout.write(
  `${JSON.stringify({ bench: 'replay', file: 'test/golden/radio.jsonl', events: events.length, sessionEventsPerSecond: session, wireEventsPerSecond: wire, exactEventsPerSecond: wire, voiceEventsPerSecond: voice, goal: 10_000 })}\n`,
);
