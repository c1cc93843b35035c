import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLogFile } from '../../adapters/cli/commands/replayCommand.ts';
import { exactWire, withWire } from '../../adapters/replay/exactWire.ts';
import { loadRuntime, type Runtime } from '../../adapters/runtime.ts';
import { replaySession } from '../../sessions/replay.ts';

// Sessions recorded by `npm run golden` on a real server with the demo catalog and model: a change that alters
// a pick or a frame fails here with its first divergence. Regenerate them when the change is meant.
const DIR = fileURLToPath(new URL('.', import.meta.url));
const GOLDEN = readdirSync(DIR).filter((f) => f.endsWith('.jsonl'));

let runtime: Runtime;
beforeAll(async () => {
  runtime = await loadRuntime({});
}, 60_000);

describe('golden sessions replay exactly', () => {
  it('has the WebSocket scroll, the long radio session and the voice session', () => {
    expect(GOLDEN).toEqual(expect.arrayContaining(['ws-scroll.jsonl', 'radio.jsonl', 'voice.jsonl']));
  });

  for (const file of GOLDEN) {
    it(`${file}: every delivery, every frame, every invariant`, async () => {
      const events = await readLogFile(`${DIR}${file}`);
      const report = await replaySession(events, runtime.engine);
      const wire = await exactWire(events, runtime.engine);
      const text = withWire(`REPLAY ${report.ok ? 'OK' : 'DIVERGED'}\n`, wire!);
      // On failure the message is the CLI's own account: the first divergent frame with both sides.
      expect(report.ok && wire?.ok, `${file}\n${JSON.stringify(report.firstDivergence)}\n${text}`).toBe(true);
      // Frames sent (WebSocket), or answers given (voice: every request's response, through the Alexa handler).
      expect(wire!.adapter).toBe(file === 'voice.jsonl' ? 'voice' : 'ws');
      expect(wire!.framesRecorded).toBeGreaterThan(20);
      expect(wire!.framesMatched).toBe(wire!.framesRecorded);
      expect(wire!.frames.results.length).toBeGreaterThanOrEqual(5);
      if (file === 'radio.jsonl') expect(wire!.delivered.length).toBeGreaterThanOrEqual(120);
      // The adapter's walk judges the session layer as the session-layer replay does (the CLI's one pass).
      const { decisions, exact, diverged, changes, commandMismatches, ok } = report;
      expect(wire!.session).toMatchObject({ decisions, exact, diverged, changes, commandMismatches, ok });
      expect(decisions).toBeGreaterThan(3);
    }, 60_000);
  }

  it('a logged feedback whose withdrawals were tampered with fails the one-pass exact replay', async () => {
    const events = await readLogFile(`${DIR}radio.jsonl`);
    const at = events.findIndex((e) => e.type === 'user.feedback' && (e as { ok?: boolean }).ok !== false);
    const tampered = events.map((e, i) =>
      i === at ? { ...e, withdrawn: [...((e as { withdrawn?: number[] }).withdrawn ?? []), 9999] } : e,
    );
    const wire = await exactWire(tampered, runtime.engine);
    expect(wire!.session.ok).toBe(false);
    expect(wire!.session.commandMismatches).toEqual([
      expect.objectContaining({
        logIndex: at,
        type: 'user.feedback',
        expected: expect.stringContaining('9999'),
      }),
    ]);
  }, 60_000);
});
