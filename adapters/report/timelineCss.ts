/** The timeline page's stylesheet, inlined into the page (it fetches nothing). */
export const timelineCss = `
:root { color-scheme: light; --ink: #1d232b; --mute: #66707c; --line: #e3e6ea; --pick: #3b6fd8; --like: #1f9d55;
  --skip: #d98a00; --bad: #d64545; --steer: #7a4fd0; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 15px; margin: 0 0 8px; }
.sub, .counts { margin: 2px 0; color: var(--mute); }
.counts span { margin-right: 12px; }
section { margin: 16px 0; }
.box { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.box p { margin: 6px 0 0; }
table.est { border-collapse: collapse; }
table.est td, table.est th { padding: 3px 14px 3px 0; text-align: left; font-variant-numeric: tabular-nums; }
svg.overview { width: 100%; height: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
svg text { font-size: 11px; fill: var(--mute); }
.axis { stroke: #c8cdd3; stroke-width: 1; }
.m-pick { fill: var(--pick); } .m-explore { fill: #e0a100; } .m-withdrawn { fill: #b9c0c8; }
.m-decision { stroke: #98a2ad; stroke-dasharray: 3 3; }
.m-liked, .m-completed { fill: var(--like); } .m-skipped { fill: var(--skip); } .m-disliked { fill: var(--bad); }
.m-steer { fill: var(--steer); } .m-diverged { stroke: var(--bad); stroke-width: 2; }
table.timeline { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
.timeline th { text-align: left; font-weight: 600; color: var(--mute); padding: 8px; border-bottom: 1px solid var(--line); }
.timeline td { padding: 6px 8px; border-bottom: 1px solid #f0f2f4; vertical-align: top; }
.timeline td.t, .timeline td.ix { color: var(--mute); font-variant-numeric: tabular-nums; white-space: nowrap; width: 1%; }
.timeline td.stream { width: 62%; } .timeline td.listener { border-left: 2px solid var(--line); }
tr.decision td { background: #f5f7fa; }
.refresh { color: #46505b; }
.seq { color: var(--mute); font-variant-numeric: tabular-nums; }
.album { color: var(--mute); }
.why { color: var(--mute); font-size: 12px; }
.why span { margin-right: 10px; }
.diff { font-size: 12px; color: #3d4a5c; background: #eef3fb; border-radius: 4px; padding: 1px 6px; margin-top: 3px; display: inline-block; }
.diff.up { background: #e6f5ec; } .diff.down { background: #fbecec; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 9px; margin-left: 4px; background: #eef0f3; color: #46505b; text-decoration: none; }
.badge.liked, .badge.completed, .badge.ok { background: #e1f4e8; color: #17693b; }
.badge.skipped { background: #fdf0d9; color: #8a5800; } .badge.disliked, .badge.bad { background: #fbe3e3; color: #a12f2f; }
.badge.explore { background: #fff3c9; color: #7a5a00; } .badge.warn { background: #eceef1; color: #5b6570; }
tr.withdrawn .pick > b { text-decoration: line-through; color: var(--mute); }
.fb { display: inline-block; font-weight: 600; }
.fb.liked, .fb.completed { color: var(--like); } .fb.skipped { color: var(--skip); } .fb.disliked { color: var(--bad); }
.fb.steer { color: var(--steer); } .fb.started { color: var(--mute); font-weight: 400; }
.cmd { color: var(--mute); font-style: italic; }
.withdrew { font-size: 12px; color: var(--mute); }
tr.diverged td { background: #fff1f1; }
.divergence { margin-top: 4px; padding: 4px 8px; border-left: 3px solid var(--bad); background: #fff; font-size: 12px; word-break: break-all; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.notes, .legend { color: var(--mute); }
.legend { font-size: 12px; margin: 4px 0 0; }
`;
