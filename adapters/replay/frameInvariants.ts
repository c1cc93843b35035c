import { DEFAULT_CONFIG } from '../../engine/config.ts';
import { radioViolations, type TimedPlay } from '../../engine/policy/radioRules.ts';

/** One rule a stream of frames must keep, and where it was first broken. */
export interface InvariantResult {
  /** An `InvariantName`, or an `AlexaRule` (alexaRules.ts) for a voice session. */
  name: string;
  ok: boolean;
  /** How many times it was broken. */
  broken: number;
  /** The first break, in words (which frame, which seq, which item). */
  first?: string;
}

export const INVARIANTS = [
  'contiguous-seq',
  'credit',
  'no-repeats',
  'radio-rules',
  'artist-spacing',
] as const;
export type InvariantName = (typeof INVARIANTS)[number];

export interface FrameCheck {
  results: InvariantResult[];
  ok: boolean;
}

/** The frames the invariants read (by their `type`, which the server writes first). */
const READ = ['item"', 'invalidated"', 'error"'];

interface ItemFrame {
  type: 'item';
  seq: number;
  re?: string | number;
  item: { id: string; artist: string; album?: string; startMs: number };
}

/**
 * The stream invariants, read from the frames a session's connections sent (in connection order) and the
 * frames their clients sent: every new seq is the last one plus 1 (a resume may send older ones again); no
 * `more` got more items than its `n`; no item comes twice within the freshness window; in a `radio` session
 * the DMCA rules hold over the items not withdrawn; and no artist comes again within `artistGap` picks
 * unless the engine's reasons say it relaxed the spacing.
 *
 * @example
 * checkFrames([sentFrames], [receivedFrames], { profile: 'radio' }).ok
 */
export function checkFrames(
  sent: readonly (readonly string[])[],
  received: readonly (readonly string[])[],
  options: { profile?: string; freshnessWindow?: number; artistGap?: number } = {},
): FrameCheck {
  const { results, broke } = tally(INVARIANTS);
  const items: ItemFrame[] = [];
  const withdrawn = new Set<number>();
  let lastSeq = 0;
  sent.forEach((frames, c) => {
    const granted = new Map<string, number>();
    for (const text of received[c] ?? []) {
      // Only a `more` grants credit: a frame without the word cannot be one (and needs no parse).
      if (!text.includes('more')) continue;
      const msg = parse(text) as { type?: string; id?: string | number; n?: number } | undefined;
      if (msg?.type === 'more' && typeof msg.n === 'number') granted.set(String(msg.id), msg.n);
    }
    const spent = new Map<string, number>();
    frames.forEach((text, k) => {
      // The server writes `type` first: welcomes, acks and pongs are told by it without a parse.
      if (text.startsWith('{"type":"') && !READ.some((t) => text.startsWith(t, 9))) return;
      const msg = parse(text) as (ItemFrame | { type: string; seqs?: number[]; id?: unknown }) | undefined;
      if (msg?.type === 'invalidated') for (const s of (msg as { seqs: number[] }).seqs) withdrawn.add(s);
      if (msg?.type === 'error' && msg.id !== undefined) granted.delete(String(msg.id));
      if (msg?.type !== 'item') return;
      const item = msg as ItemFrame;
      if (item.seq > lastSeq) {
        if (item.seq !== lastSeq + 1)
          broke('contiguous-seq', `frame ${k} of connection ${c}: seq ${item.seq} after ${lastSeq}`);
        lastSeq = item.seq;
        items.push(item);
      }
      if (item.re !== undefined) {
        const key = String(item.re);
        const n = (spent.get(key) ?? 0) + 1;
        spent.set(key, n);
        if (n > (granted.get(key) ?? 0))
          broke(
            'credit',
            `frame ${k} of connection ${c}: item ${n} for more ${key}, which asked for ${granted.get(key) ?? 0}`,
          );
      }
    });
  });
  const played = items.filter((i) => !withdrawn.has(i.seq));
  for (const r of checkPlayed(played, options)) if (!r.ok) results.set(r.name, r);
  const list = [...results.values()];
  return { results: list, ok: list.every((r) => r.ok) };
}

/** An item as it played: its seq, and what the stream rules read of it. */
export interface PlayedItem {
  seq: number;
  item: {
    id: string;
    artist: string;
    album?: string;
    startMs: number;
    reasons?: { rules?: string[] };
  };
}

/**
 * The rules over what played, whatever adapter delivered it (`checkFrames` for a socket's frames, the voice
 * replay for its deliveries): no item twice within the freshness window, the radio rules in a `radio`
 * session, and no artist again within `artistGap` picks unless the engine's reasons say it relaxed the
 * spacing. Withdrawn items are to be left out by the caller.
 */
export function checkPlayed(
  played: readonly PlayedItem[],
  options: { profile?: string; freshnessWindow?: number; artistGap?: number } = {},
): InvariantResult[] {
  const freshness = options.freshnessWindow ?? DEFAULT_CONFIG.freshnessWindow;
  const gap = options.artistGap ?? DEFAULT_CONFIG.artistGap;
  const { results, broke } = tally(['no-repeats', 'radio-rules', 'artist-spacing'] as const);
  const lastAt = new Map<string, number>();
  played.forEach((f, k) => {
    const before = lastAt.get(f.item.id);
    if (before !== undefined && k - before < freshness)
      broke(
        'no-repeats',
        `seq ${f.seq}: ${f.item.id} again, ${k - before} items after seq ${played[before].seq}`,
      );
    lastAt.set(f.item.id, k);
  });
  if (options.profile === 'radio') {
    const timeline: TimedPlay[] = played.map((f) => ({
      artist: f.item.artist,
      album: f.item.album,
      startMs: f.item.startMs,
    }));
    for (const v of radioViolations(timeline))
      broke('radio-rules', `seq ${played[v.index].seq}: ${v.rule} (${played[v.index].item.artist})`);
  }
  const artistAt = new Map<string, number>();
  played.forEach((f, k) => {
    const before = artistAt.get(f.item.artist);
    const relaxed = f.item.reasons?.rules?.includes('artist-gap') === false;
    if (before !== undefined && k - before < gap && !relaxed)
      broke('artist-spacing', `seq ${f.seq}: ${f.item.artist} again after ${k - before} picks (gap ${gap})`);
    artistAt.set(f.item.artist, k);
  });
  return [...results.values()];
}

/** A result per rule, each ok until `broke` names its first break. */
function tally<N extends string>(names: readonly N[]) {
  const results = new Map<string, InvariantResult>(
    names.map((name) => [name, { name, ok: true, broken: 0 }]),
  );
  const broke = (name: N, what: string) => {
    const r = results.get(name)!;
    r.ok = false;
    r.broken++;
    r.first ??= what;
  };
  return { results, broke };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
