import type { CounterfactualReport } from '../../sessions/counterfactual.ts';
import type { Estimate } from '../../sessions/offPolicy.ts';
import type { ReplayReport } from '../../sessions/replay.ts';
import type { DecisionRescore, ItemRank, RescoreReport } from '../../sessions/rescore.ts';
import {
  clock,
  type SessionTimeline,
  type TimelineEvent,
  type TimelinePick,
} from '../../sessions/sessionTimeline.ts';
import { timelineCss } from './timelineCss.ts';

export interface TimelineReport {
  sessionId?: string;
  timeline: SessionTimeline;
  /** The exact replay's report: its first divergence is marked on the timeline. */
  replay?: ReplayReport;
  rescore?: RescoreReport;
  counterfactual?: CounterfactualReport;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const e = escapeHtml;

const num = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const prob = (p: number) => (p >= 0.01 || p === 0 ? p.toFixed(3) : p.toExponential(1));

/**
 * One session's timeline as a self-contained HTML page (inline CSS, no script, nothing fetched): the picks
 * with artist, title, reasons, score and propensity; the listener's feedback and steering on the same time
 * line; decisions (pool refreshes) and withdrawals; the rank and score differences of a rescore and the
 * target's chances of a counterfactual; the replay's first divergence marked. Every logged string is escaped.
 *
 * @example
 * await writeFile('session.html', timelineHtml({ timeline, replay: report }));
 */
export function timelineHtml(report: TimelineReport): string {
  const { timeline } = report;
  const first = report.replay?.firstDivergence ?? null;
  const decisions = new Map((report.rescore?.perDecision ?? []).map((d) => [d.logIndex, d]));
  const deliveries = new Map((report.rescore?.perDelivery ?? []).map((d) => [d.logIndex, d]));
  const slots = new Map((report.counterfactual?.perSlot ?? []).map((s) => [`${s.logIndex}:${s.slot}`, s]));
  const rows: string[] = [];
  const span = Math.max(0, ...timeline.events.map((x) => x.nowMs - timeline.startMs));
  // A short session (a test, a script) shows tenths of seconds, or every row reads 0:00.
  const at = (ms: number) => elapsed(ms - timeline.startMs, span < 600_000);
  let lastLogIndex = -1;
  for (const event of timeline.events) {
    const marked = first !== null && event.logIndex === first.logIndex && event.logIndex !== lastLogIndex;
    lastLogIndex = event.logIndex;
    const t = at(event.nowMs);
    const [stream, listener] = cells(event);
    const cls = `${event.kind}${marked ? ' diverged' : ''}${event.kind === 'pick' && event.withdrawnAt !== undefined ? ' withdrawn' : ''}`;
    rows.push(
      `<tr class="${cls}"${marked ? ' id="first-divergence"' : ''}><td class="t">${e(t)}</td><td class="ix">${event.logIndex}</td><td class="stream">${stream}${marked ? divergenceNote(first!) : ''}</td><td class="listener">${listener}</td></tr>`,
    );
  }

  function cells(event: TimelineEvent): [string, string] {
    switch (event.kind) {
      case 'start':
        return [
          `<b>start</b> · seed ${event.seed} · ${e(event.profile)}${event.intent ? ` · “${e(event.intent)}”` : ''} · model ${e(event.model)}`,
          '',
        ];
      case 'decision':
        return [
          `<div class="refresh">decision ${event.decision}: ${event.candidates} candidates scored, ${event.kept} kept, from pos ${event.fromPos} · ${e(event.model)}${event.degraded ? ' <span class="badge warn">degraded</span>' : ''}${rescoredDecision(decisions.get(event.logIndex))}</div>`,
          '',
        ];
      case 'pick':
        return [pickCell(event), ''];
      case 'feedback': {
        const label = event.type === 'skipped' ? `skipped at ${clock(event.atMs ?? 0)}` : event.type;
        const what = event.item ? ` “${e(event.item.title)}” — ${e(event.item.artist)}` : '';
        return [
          '',
          `<span class="fb ${e(event.type)}">${e(label)}</span> #${event.seq}${what}${withdrew(event.withdrew)}`,
        ];
      }
      case 'steer':
        return ['', `<span class="fb steer">steer</span> ${e(event.steer)}${withdrew(event.withdrew)}`];
      case 'command':
        return ['', `<span class="cmd">${e(event.type)}</span>`];
    }
  }

  function pickCell(pick: TimelinePick): string {
    const delivery = deliveries.get(pick.logIndex);
    const ranked = delivery?.items[pick.slot];
    const instead =
      delivery && delivery.rescored[pick.slot] !== pick.id ? delivery.rescored[pick.slot] : undefined;
    const slot = slots.get(`${pick.logIndex}:${pick.slot}`);
    const badges = [
      pick.explored ? '<span class="badge explore">explored</span>' : '',
      ...pick.outcomes.map((o) => `<span class="badge ${e(o.split(' ')[0])}">${e(o)}</span>`),
      pick.withdrawnAt !== undefined
        ? `<span class="badge warn">withdrawn (log ${pick.withdrawnAt})</span>`
        : '',
    ].join('');
    const reasons = [
      `score ${num(pick.score)}`,
      `p ${prob(pick.p)}`,
      `rank ${pick.rank}`,
      pick.sources.join('+'),
      pick.correction !== undefined ? `correction ${num(pick.correction)}` : '',
      `decision ${pick.decision}`,
    ]
      .filter(Boolean)
      .map((r) => `<span>${e(r)}</span>`)
      .join('');
    const diff = ranked ? rankDiff(ranked) : '';
    const other =
      instead !== undefined
        ? `<div class="diff">other model picks <code>${e(instead)}</code> here</div>`
        : '';
    const cf = slot
      ? `<div class="diff">target p ${prob(slot.pTarget)} · w ${num(slot.pTarget / slot.pLogged, 3)}${slot.reward === null ? '' : ` · reward ${slot.reward}`}${slot.targetGreedy && slot.targetGreedy !== pick.id ? ` · target's greedy <code>${e(slot.targetGreedy)}</code>` : ''}</div>`
      : '';
    return `<div class="pick"><span class="seq">#${pick.seq}</span> <b>${e(pick.title)}</b> — ${e(pick.artist)}${pick.album ? ` <span class="album">(${e(pick.album)})</span>` : ''} ${badges}<div class="why">${reasons}</div>${diff}${other}${cf}</div>`;
  }

  const overview = overviewSvg(timeline, first?.logIndex, at);
  const counts = countsOf(timeline.events);
  const status = report.replay
    ? report.replay.ok
      ? '<span class="badge ok">replay exact</span>'
      : `<a class="badge bad" href="#first-divergence">replay diverged at log event ${first?.logIndex ?? '?'}</a>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>omakase session ${e(report.sessionId ?? '')}</title>
<style>${timelineCss}</style></head>
<body><header><h1>Session ${e(report.sessionId ?? '')}</h1>
<p class="sub">${e(new Date(timeline.startMs).toISOString())} · seed ${timeline.seed} · model ${e(timeline.model)} ${status}</p>
<p class="counts">${counts}</p></header>
${report.rescore ? rescoreSummary(report.rescore) : ''}${report.counterfactual ? counterfactualSummary(report.counterfactual) : ''}
<section><h2>Time line</h2>${overview}</section>
<table class="timeline"><thead><tr><th>time</th><th>log</th><th>stream: decisions and picks</th><th>listener: feedback and steering</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
${timeline.notes.length ? `<ul class="notes">${timeline.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}

function rankDiff(r: ItemRank): string {
  if (r.rank < 0) return '';
  const delta = r.score - r.loggedScore;
  const dir = r.rank < r.loggedRank ? 'up' : r.rank > r.loggedRank ? 'down' : 'same';
  return `<div class="diff ${dir}">rescored: rank ${r.loggedRank} → ${r.rank} · score ${num(r.loggedScore)} → ${num(r.score)} (${delta >= 0 ? '+' : ''}${num(delta)})</div>`;
}

function rescoredDecision(d: DecisionRescore | undefined): string {
  if (!d) return '';
  const top = d.topChanged
    ? ` · top <code>${e(d.logged[0]?.id ?? '')}</code> → <code>${e(d.rescored[0]?.id ?? '')}</code>`
    : ' · same top';
  return `<div class="diff">rescored: τ ${num(d.kendallTau)} · ${d.rankFlips} flips in the best ${d.logged.length} · max |Δscore| ${num(d.maxScoreDelta, 3)}${top}</div>`;
}

function withdrew(items: { seq: number; title: string; artist: string }[]): string {
  if (items.length === 0) return '';
  return `<div class="withdrew">withdrew ${items.map((i) => `#${i.seq} “${e(i.title)}”`).join(', ')}</div>`;
}

function divergenceNote(d: NonNullable<ReplayReport['firstDivergence']>): string {
  return `<div class="divergence"><b>first divergence</b> (${e(d.what)} ${d.decision}): expected <code>${e(d.expected.join(' '))}</code>, replay gave <code>${e(d.got.join(' '))}</code></div>`;
}

function countsOf(events: readonly TimelineEvent[]): string {
  const n = (f: (x: TimelineEvent) => boolean) => events.filter(f).length;
  const fb = (type: string) => n((x) => x.kind === 'feedback' && x.type === type);
  return [
    `${n((x) => x.kind === 'pick')} picks`,
    `${n((x) => x.kind === 'decision')} decisions`,
    `${fb('liked')} liked`,
    `${fb('completed')} completed`,
    `${fb('skipped')} skipped`,
    `${fb('disliked')} disliked`,
    `${n((x) => x.kind === 'steer')} steers`,
    `${n((x) => x.kind === 'pick' && x.withdrawnAt !== undefined)} withdrawn`,
  ]
    .map((c) => `<span>${e(c)}</span>`)
    .join('');
}

function rescoreSummary(r: RescoreReport): string {
  return `<section class="box"><h2>Rescore: ${e(r.model.logged ?? '?')} → ${e(r.model.rescored)}</h2><p>${r.decisions} decisions: top pick changed in ${r.topChanged}, mean Kendall τ ${num(r.meanKendallTau)}, ${r.rankFlips} flips among the best ${r.top}, max |Δscore| ${num(r.maxScoreDelta, 3)}; ${r.slatesChanged} of ${r.deliveries} deliveries would differ (${r.picksChanged} of ${r.picks} picks).</p></section>`;
}

function counterfactualSummary(c: CounterfactualReport): string {
  const row = (name: string, x: Estimate) =>
    `<tr><td>${name}</td><td>${num(x.value, 3)}</td><td>[${num(x.low, 3)}, ${num(x.high, 3)}]</td></tr>`;
  const s = c.estimates;
  return `<section class="box"><h2>Counterfactual: ${e(c.target.model)}${c.target.rescored ? '' : ' (logged scores)'}</h2>
<table class="est"><tr><th>estimate</th><th>value</th><th>95 % interval (${e(c.interval)})</th></tr>${row('logged (observed)', s.observed)}${row('IPS', s.ips)}${row('SNIPS', s.snips)}${row(`DR (${e(c.rewardModel)})`, s.dr)}</table>
<p>${c.rewarded} rewarded slots of ${c.slots}; effective sample size ${num(s.effectiveSampleSize, 1)}; ${s.zeroWeight} with weight 0; max weight ${num(s.maxWeight, 1)}; target mass without logging support ${num(c.unsupportedMass, 3)}.</p></section>`;
}

/** The whole session on one time axis: picks above, the listener's words below, decisions as ticks. */
function overviewSvg(
  timeline: SessionTimeline,
  divergedAt: number | undefined,
  when: (ms: number) => string,
): string {
  const width = 1000;
  const end = Math.max(timeline.startMs + 1000, ...timeline.events.map((x) => x.nowMs));
  const x = (ms: number) => 10 + ((ms - timeline.startMs) / (end - timeline.startMs)) * (width - 20);
  const marks: string[] = [];
  for (const ev of timeline.events) {
    const at = x(ev.nowMs).toFixed(1);
    const label = `${when(ev.nowMs)} ${ev.kind}${ev.kind === 'pick' ? ` #${ev.seq} ${ev.title}` : ev.kind === 'feedback' ? ` ${ev.type} #${ev.seq}` : ev.kind === 'steer' ? ` ${ev.steer}` : ''}`;
    const title = `<title>${e(label)}</title>`;
    if (ev.kind === 'decision')
      marks.push(`<line class="m-decision" x1="${at}" x2="${at}" y1="4" y2="76">${title}</line>`);
    else if (ev.kind === 'pick')
      marks.push(
        `<rect class="m-pick${ev.explored ? ' m-explore' : ''}${ev.withdrawnAt !== undefined ? ' m-withdrawn' : ''}" x="${(x(ev.nowMs) + ev.slot * 4).toFixed(1)}" y="14" width="3" height="20">${title}</rect>`,
      );
    else if (ev.kind === 'feedback' && ev.type !== 'started')
      marks.push(`<circle class="m-${e(ev.type)}" cx="${at}" cy="56" r="5">${title}</circle>`);
    else if (ev.kind === 'steer')
      marks.push(
        `<rect class="m-steer" x="${at}" y="62" width="9" height="9" transform="rotate(45 ${at} 66)">${title}</rect>`,
      );
    if (divergedAt !== undefined && ev.logIndex === divergedAt)
      marks.push(`<line class="m-diverged" x1="${at}" x2="${at}" y1="0" y2="80"/>`);
  }
  return `<svg class="overview" viewBox="0 0 ${width} 96" role="img" aria-label="the session on one time line"><line class="axis" x1="10" x2="${width - 10}" y1="42" y2="42"/>${marks.join('')}<text x="10" y="92">${e(when(timeline.startMs))}</text><text x="${width - 10}" y="92" text-anchor="end">${e(when(end))}</text></svg><p class="legend">Picks above the line (blue; yellow explored, grey withdrawn), the listener below (green liked or completed, amber skipped, red disliked, violet steer); decisions dashed.</p>`;
}

/** Time since the start: `m:ss`, `h:mm:ss` past an hour, with tenths of a second when `fine`. */
function elapsed(ms: number, fine: boolean): string {
  const t = Math.max(0, ms);
  if (fine) return `${Math.floor(t / 60_000)}:${((t % 60_000) / 1000).toFixed(1).padStart(4, '0')}`;
  const h = Math.floor(t / 3_600_000);
  const rest = clock(t % 3_600_000);
  return h > 0 ? `${h}:${rest.padStart(5, '0')}` : rest;
}
