import { Command, InvalidArgumentError } from 'commander';
import { ENGINE_PRESET_NAMES, ENGINE_PRESETS, type EnginePreset } from '../../../engine/config.ts';
import type { Pick } from '../../../engine/pick.ts';
import { radioViolations } from '../../../engine/policy/radioRules.ts';
import { type Feedback, PROFILES, type Profile, type Steer } from '../../../engine/session.ts';
import { nextPicks, type StreamCursor } from '../../../engine/streamCursor.ts';
import { loadRuntime } from '../../runtime.ts';

/** What the listener does at a position: `skip[@ms]`, `like`, `dislike`, or steer with `tag=TAG`/`artist=NAME`. */
type Action = { feedback: 'skipped'; atMs: number } | { feedback: 'liked' | 'disliked' } | { steer: Steer };

/**
 * `omakase stream`: prints a stream picked one item at a time as a session serves it (each pick decided at
 * delivery from the latest scored pool, a new decision when the pool is due), applying scripted feedback at
 * positions, with a player clock that advances by each item's duration (or by the skip offset).
 */
export function streamCommand(): Command {
  return new Command('stream')
    .description(
      'print a stream picked by the engine (built-in demo catalog and model unless --catalog/--model)',
    )
    .option('--n <count>', 'items to pick', positiveInt, 50)
    .option('--seed <seed>', 'session seed (same seed and feedback, same stream)', int, 7)
    .option('--profile <profile>', `sequencing profile: ${PROFILES.join(' | ')}`, 'default')
    .option('--intent <text>', 'starting intent, e.g. "jazz", "calm", an artist name')
    .option(
      '--feedback <list>',
      'scripted feedback, e.g. "3:skip,5:like,9:dislike,12:skip@20000,20:tag=calm"',
      parseFeedback,
      new Map(),
    )
    .option('--catalog <file>', 'a JSONL catalog (docs/data-format.md)')
    .option('--sessions <file>', 'logged sessions (JSONL) for the transition memory')
    .option('--model <dir>', 'a model directory (model.onnx + model-card.json)')
    .option('--json', 'one JSON object per pick')
    .option(
      '--preset <name>',
      `engine settings (${ENGINE_PRESET_NAMES.join(', ')}; engine/config.ts)`,
      'served',
    )
    .action(async (opts) => {
      if (!PROFILES.includes(opts.profile))
        throw new InvalidArgumentError(`--profile must be one of ${PROFILES.join(', ')}`);
      if (!ENGINE_PRESET_NAMES.includes(opts.preset))
        throw new InvalidArgumentError(`--preset must be one of ${ENGINE_PRESET_NAMES.join(', ')}`);
      const warn = (m: string) => process.stderr.write(`omakase: ${m}\n`);
      const runtime = await loadRuntime({
        catalogPath: opts.catalog,
        sessionsPath: opts.sessions,
        modelDir: opts.model,
        config: ENGINE_PRESETS[opts.preset as EnginePreset],
        warn,
      });
      const { engine } = runtime;
      const actions: Map<number, Action> = opts.feedback;
      let cursor: StreamCursor = {
        state: engine.start({
          seed: opts.seed,
          profile: opts.profile as Profile,
          intent: opts.intent === undefined ? {} : { text: opts.intent },
        }),
        pool: null,
      };
      const { state: first } = cursor;
      if (!opts.json) {
        process.stdout.write(`# ${runtime.description}; seed ${opts.seed}, profile ${opts.profile}`);
        process.stdout.write(
          `${(first.intent.tag ?? first.intent.artist) ? `, intent ${first.intent.tag ?? first.intent.artist}` : ''}\n`,
        );
      }
      let clock = Date.UTC(2026, 0, 1, 8);
      const played: Pick[] = [];
      const pickMs: number[] = [];
      let decisions = 0;
      while (played.length < opts.n) {
        const t = performance.now();
        const out = await nextPicks(engine, cursor, 1, clock);
        pickMs.push(performance.now() - t);
        decisions += out.decided;
        let { state } = out.cursor;
        const pick = out.picks[0];
        if (!pick) {
          process.stderr.write('omakase: the catalog has nothing left that the rules allow; stopping.\n');
          break;
        }
        const pos = played.length;
        played.push(pick);
        const action = actions.get(pos);
        const feedback: Feedback =
          action && 'feedback' in action
            ? action.feedback === 'skipped'
              ? { type: 'skipped', pos: pick.pos, atMs: action.atMs }
              : { type: action.feedback, pos: pick.pos }
            : { type: 'completed', pos: pick.pos };
        print(pos, pick, runtime.catalog.get(pick.id)?.tags ?? [], action, opts.json);
        clock += feedback.type === 'skipped' ? feedback.atMs : pick.durationMs;
        state = engine.feedback(state, feedback, clock).state;
        if (action && 'steer' in action) state = engine.steer(state, action.steer, clock).state;
        cursor = { state, pool: out.cursor.pool };
      }
      if (!opts.json) summarise(played, pickMs, decisions);
    });
}

function print(
  pos: number,
  pick: Pick,
  tags: readonly string[],
  action: Action | undefined,
  json: boolean,
): void {
  const note =
    action === undefined ? '' : 'steer' in action ? `steer ${JSON.stringify(action.steer)}` : action.feedback;
  if (json) {
    const { startMs: _start, ...rest } = pick;
    process.stdout.write(
      `${JSON.stringify({ ...rest, pos, enginePos: pick.pos, feedback: note || undefined })}\n`,
    );
    return;
  }
  const time = `${Math.floor(pick.durationMs / 60_000)}:${String(Math.floor((pick.durationMs % 60_000) / 1000)).padStart(2, '0')}`;
  const src = pick.reasons.source.join('+') + (pick.reasons.explored ? ' explore' : '');
  const line = `${String(pos).padStart(4)}  ${`${pick.artist} - ${pick.title}`.slice(0, 44).padEnd(44)} ${time.padStart(5)}  score ${pick.score.toFixed(2).padStart(6)}  p ${pick.propensity.toFixed(3)}  ${tags.slice(0, 3).join('/').padEnd(28)}  ${src}${pick.reasons.degraded ? ' DEGRADED' : ''}`;
  process.stdout.write(`${line}${note ? `   <- ${note}` : ''}\n`);
}

function summarise(played: Pick[], pickMs: number[], decisions: number): void {
  const ids = new Set(played.map((p) => p.id));
  const artists = new Set(played.map((p) => p.artist));
  let closest = Number.POSITIVE_INFINITY;
  const lastAt = new Map<string, number>();
  played.forEach((p, i) => {
    const prev = lastAt.get(p.artist);
    if (prev !== undefined) closest = Math.min(closest, i - prev);
    lastAt.set(p.artist, i);
  });
  const sorted = pickMs.slice(1).sort((a, b) => a - b);
  const q = (f: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))] : 0;
  const timeline = played.map((p) => ({ artist: p.artist, album: p.album, startMs: p.startMs }));
  process.stdout.write(
    `# ${played.length} picks: ${ids.size} distinct items, ${artists.size} distinct artists, closest artist repeat ${Number.isFinite(closest) ? `${closest} apart` : 'none'}, ` +
      `${timeline.length ? radioViolations(timeline).length : 0} radio-rule breaks on the planned timeline, ${played.filter((p) => p.reasons.degraded).length} degraded; ` +
      `${decisions} decisions; time to the next pick p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms (a decision included when one was due)\n`,
  );
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function parseFeedback(value: string): Map<number, Action> {
  const actions = new Map<number, Action>();
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\d+):(skip(?:@(\d+))?|like|dislike|tag=(.+)|artist=(.+))$/.exec(part);
    if (!m) {
      throw new InvalidArgumentError(
        `"${part}" is not POS:skip[@ms], POS:like, POS:dislike, POS:tag=TAG or POS:artist=NAME`,
      );
    }
    const [, pos, what, skipAt, tag, artist] = m;
    const action: Action =
      tag !== undefined
        ? { steer: { kind: 'tag', tag: tag.toLowerCase() } }
        : artist !== undefined
          ? { steer: { kind: 'artist', artist } }
          : what.startsWith('skip')
            ? { feedback: 'skipped', atMs: skipAt === undefined ? 5_000 : Number(skipAt) }
            : { feedback: what === 'like' ? 'liked' : 'disliked' };
    actions.set(Number(pos), action);
  }
  return actions;
}
