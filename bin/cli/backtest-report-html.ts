// The backtest report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched.
// Pure: the report's data in, the page out. Every id and name is escaped (they come from the API).
import type { Alert, SeriesNames } from '../../functions/core/alert.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import type { SeriesId } from '../../functions/detection/series-metrics.ts';
import type { BandPoint } from './backtest-report-band.ts';
import { seriesChart } from './backtest-report-chart.ts';
import { dayUtc, escapeHtml, formatTokens, formatUsd, hourUtc } from './backtest-report-format.ts';
import type { SweepPoint } from './backtest-report-replays.ts';

export interface ReportSeries {
  id: SeriesId;
  names?: SeriesNames;
  /** Tokens per hour of the replay. */
  observed: number[];
  bands: ReadonlyArray<BandPoint | null | undefined>;
  alerts: Alert[];
}

export interface BacktestReport {
  /** Where the usage came from, e.g. "usage.jsonl". */
  sourceLabel: string;
  /** Replayed hours [start, end); alerts count from alertsFrom. */
  start: number;
  end: number;
  alertsFrom: number;
  hours: number;
  seriesSeen: number;
  alerts: readonly Alert[];
  /** The summary the command prints, kept verbatim. */
  summaryText: string;
  /** Charted series, most incidents first. */
  series: ReportSeries[];
  seriesAlerted: number;
  sensitivity: number;
  sweep: SweepPoint[];
  generatedAt: Date;
}

const isOpening = (a: Alert) => a.type === 'spike' || a.type === 'new_key';

export function seriesTitle(id: SeriesId, names: SeriesNames | undefined): string {
  return `${names?.project ?? id.projectId} / ${names?.apiKey ?? id.apiKeyId ?? '(no API key)'}`;
}

export function renderReportHtml(report: BacktestReport): string {
  const counted = report.alerts.filter((a) => a.bucketStart >= report.alertsFrom);
  const opened = counted.filter(isOpening);
  const weeks = Math.max((report.end - report.alertsFrom) / (7 * 24 * HOUR_SECONDS), 1 / 7);
  const byType = new Map<string, number>();
  for (const a of counted) byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
  const excessUsd = opened.reduce((sum, a) => sum + a.excessUsdTotal, 0);
  const leftOut = report.seriesAlerted - report.series.length;

  const cards = [
    card(
      'Range replayed',
      `${Math.round(report.hours / 24)} days`,
      `${dayUtc(report.start)} to ${dayUtc(report.end - HOUR_SECONDS)} UTC, ${report.hours} hours`,
    ),
    card('Series seen', String(report.seriesSeen), 'project / API key pairs'),
    card(
      'Incidents opened',
      String(opened.length),
      `${(opened.length / weeks).toFixed(1)} a week, after the priming week`,
    ),
    card('Series alerted', String(report.seriesAlerted), `of ${report.seriesSeen}`),
    card(
      'All alerts',
      String(counted.length),
      [...byType].map(([type, n]) => `${n} ${type.replace('_', ' ')}`).join(', ') || 'none',
    ),
    card('Excess at opening', formatUsd(excessUsd), 'estimated USD over the baseline'),
  ];

  const body = [
    '<header>',
    '<h1>usage-sentinel backtest</h1>',
    `<p class="sub">${escapeHtml(report.sourceLabel)} · alerts counted from ${escapeHtml(hourUtc(report.alertsFrom))} UTC · sensitivity ${report.sensitivity} · generated ${escapeHtml(report.generatedAt.toISOString().slice(0, 16).replace('T', ' '))} UTC</p>`,
    '</header>',
    `<section class="cards">${cards.join('')}</section>`,
    sweepSection(report),
    seriesIndex(report, leftOut),
    ...report.series.map((s, i) => seriesSection(report, s, i)),
    '<section><details><summary>The summary as printed</summary>',
    `<pre>${escapeHtml(report.summaryText)}</pre></details></section>`,
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may load from elsewhere: the page works offline and leaks nothing when opened.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>usage-sentinel backtest ${escapeHtml(dayUtc(report.start))} to ${escapeHtml(dayUtc(report.end - HOUR_SECONDS))}</title>`,
    `<style>${CSS}</style>`,
    '</head><body><main>',
    ...body,
    '</main></body></html>',
    '',
  ].join('\n');
}

function card(label: string, value: string, note: string): string {
  return `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div><div class="note">${escapeHtml(note)}</div></div>`;
}

function sweepSection(report: BacktestReport): string {
  const maxPerWeek = Math.max(...report.sweep.map((p) => p.perWeek), 0.001);
  const rows = report.sweep.map((p) => {
    const current = p.factor === 1;
    const width = Math.max(p.perWeek > 0 ? 1 : 0, (p.perWeek / maxPerWeek) * 100);
    return [
      `<tr class="${current ? 'current' : ''}">`,
      `<td class="num">${p.sensitivity}${current ? ' <span class="tag">configured</span>' : ''}</td>`,
      `<td class="num">×${p.factor}</td>`,
      `<td class="num">${p.opened}</td>`,
      `<td class="num">${p.perWeek.toFixed(1)}</td>`,
      `<td class="bar-cell"><div class="bar" style="width:${width.toFixed(1)}%"></div></td>`,
      `<td class="num">${p.series}</td>`,
      '</tr>',
    ].join('');
  });
  return [
    '<section class="sweep"><h2>Sensitivity sweep</h2>',
    '<p class="note">The same history replayed from an empty state at other sensitivities (how far above its baseline an hour must be); the other thresholds stay as configured. Fewer alerts at a higher value, more at a lower one.</p>',
    '<table class="sweep-table"><thead><tr><th class="num">Sensitivity</th><th class="num">Of configured</th><th class="num">Incidents opened</th><th class="num">Per week</th><th></th><th class="num">Series alerted</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table></section>`,
  ].join('');
}

function seriesIndex(report: BacktestReport, leftOut: number): string {
  if (report.seriesAlerted === 0) {
    return '<section><h2>Series that alerted</h2><p>None: nothing would have fired in this range.</p></section>';
  }
  const rows = report.series.map((s, i) => {
    const opened = s.alerts.filter(isOpening);
    const usd = opened.reduce((sum, a) => sum + a.excessUsdTotal, 0);
    return [
      '<tr>',
      `<td class="num">${i + 1}</td>`,
      `<td><a href="#series-${i}">${escapeHtml(seriesTitle(s.id, s.names))}</a></td>`,
      `<td class="num">${opened.length}</td>`,
      `<td class="num">${s.alerts.length}</td>`,
      `<td class="num">${formatUsd(usd)}</td>`,
      '</tr>',
    ].join('');
  });
  const shown =
    leftOut > 0
      ? `The ${report.series.length} with the most incidents are charted below; ${leftOut} more series alerted and are left out (--alerts-out lists every alert).`
      : `All ${report.series.length} are charted below, most incidents first.`;
  return [
    `<section><h2>Series that alerted (${report.seriesAlerted})</h2>`,
    `<p class="note">${escapeHtml(shown)}</p>`,
    '<table class="index"><thead><tr><th class="num">#</th><th>Project / API key</th><th class="num">Incidents</th><th class="num">Alerts</th><th class="num">Excess USD at opening</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table></section>`,
  ].join('');
}

const LEGEND = [
  '<div class="legend">',
  '<span><svg width="26" height="12"><path class="observed" d="M1,9L9,3L17,8L25,2"/></svg>tokens per hour</span>',
  '<span title="The baseline\'s expectation for the hour, and its usual spread when the key is used"><svg width="26" height="12"><rect class="band" x="0" y="2" width="26" height="8"/><path class="expected" d="M0,6L26,6"/></svg>baseline and usual range</span>',
  '<span title="Tokens at which an hour crosses the distance, ratio and excess-token thresholds (the detector also weighs USD, recurrences and a sparse key\'s recent peak)"><svg width="26" height="12"><path class="threshold" d="M0,6L26,6"/></svg>alert threshold</span>',
  '<span><svg width="14" height="12"><circle class="marker marker-spike" cx="7" cy="6" r="5"/></svg>spike</span>',
  '<span><svg width="14" height="12"><rect class="marker marker-new_key" x="2" y="1" width="10" height="10"/></svg>new key</span>',
  '<span><svg width="14" height="12"><circle class="marker marker-reminder" cx="7" cy="6" r="3"/></svg>reminder</span>',
  '<span><svg width="14" height="12"><circle class="marker marker-resolved" cx="7" cy="6" r="5"/></svg>resolved</span>',
  '<span><svg width="18" height="12"><rect class="incident" x="0" y="0" width="18" height="12"/></svg>incident open</span>',
  '</div>',
].join('');

function seriesSection(report: BacktestReport, s: ReportSeries, index: number): string {
  const title = seriesTitle(s.id, s.names);
  const chart = seriesChart({
    start: report.start,
    alertsFrom: report.alertsFrom,
    observed: s.observed,
    bands: s.bands,
    alerts: s.alerts,
    label: `Hourly tokens of ${title}`,
    chartId: String(index),
  });
  const opened = s.alerts.filter(isOpening).length;
  const peak = s.observed.reduce((m, v) => Math.max(m, v), 0);
  const ids = `${s.id.projectId} · ${s.id.apiKeyId ?? 'no API key'}${s.names?.redactedKey ? ` · ${s.names.redactedKey}` : ''}`;
  const rows = s.alerts.map((a) => {
    const ratio = a.expected > 0 ? `${(a.observed / a.expected).toFixed(1)}×` : '—';
    return [
      `<tr class="row-${a.type}">`,
      `<td>${escapeHtml(hourUtc(a.bucketStart))}</td>`,
      `<td><span class="pill pill-${a.type}">${escapeHtml(a.type.replace('_', ' '))}</span>${a.muted ? ' <span class="muted">muted</span>' : ''}</td>`,
      `<td>${escapeHtml(a.severity)}</td>`,
      `<td class="num">${formatTokens(a.observed)}</td>`,
      `<td class="num">${formatTokens(a.expected)}</td>`,
      `<td class="num">${ratio}</td>`,
      `<td class="num">${formatTokens(a.excessTokensTotal)}</td>`,
      `<td class="num">${formatUsd(a.excessUsdTotal)}</td>`,
      `<td class="model">${escapeHtml(a.topModel ?? '—')}</td>`,
      '</tr>',
    ].join('');
  });
  return [
    `<section class="series" id="series-${index}">`,
    `<h3>${escapeHtml(title)}</h3>`,
    `<p class="ids">${escapeHtml(ids)}</p>`,
    `<p class="note">${opened} incident${opened === 1 ? '' : 's'} opened, ${s.alerts.length} alert${s.alerts.length === 1 ? '' : 's'} in all; peak ${formatTokens(peak)} tokens in an hour.${chart.hoursPerPoint > 1 ? ` Each point is the peak of ${chart.hoursPerPoint} hours.` : ''}</p>`,
    LEGEND,
    `<div class="chart-wrap">${chart.svg}</div>`,
    '<table class="alerts"><thead><tr><th>Hour (UTC)</th><th>Type</th><th>Severity</th><th class="num">Observed</th><th class="num">Expected</th><th class="num">Ratio</th><th class="num">Excess tokens</th><th class="num">Excess USD</th><th>Top model</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table>`,
    '<p class="note small">Excess tokens and USD are the incident\'s total over the baseline up to that hour.</p>',
    '</section>',
  ].join('');
}

const CSS = `
:root { --ink:#1d2430; --muted:#5d6778; --line:#dfe3ea; --bg:#f6f7f9; --blue:#1f4e99; --red:#d62728; --green:#2e9e44; --orange:#e08a00; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1180px; margin:0 auto; padding:24px 24px 48px; }
h1 { font-size:26px; margin:0 0 4px; }
h2 { font-size:19px; margin:0 0 8px; }
h3 { font-size:17px; margin:0; word-break:break-all; }
.sub, .note, .muted, .ids { color:var(--muted); }
.sub { margin:0 0 18px; }
.note { margin:4px 0 10px; }
.small { font-size:13px; }
.ids { font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; margin:2px 0 4px; word-break:break-all; }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 18px; margin:0 0 16px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(170px,1fr)); gap:12px; background:none; border:0; padding:0; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.card .label { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.card .value { font-size:22px; font-weight:650; margin:2px 0; }
.card .note { font-size:13px; margin:0; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); }
th { font-size:12px; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); font-weight:600; }
.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.sweep-table { max-width:760px; }
.sweep-table tr.current td { background:#eef4fc; font-weight:600; }
.bar-cell { width:200px; }
.bar { height:10px; background:var(--blue); border-radius:3px; opacity:.75; }
.tag { font-size:11px; font-weight:600; background:var(--blue); color:#fff; border-radius:4px; padding:1px 5px; margin-left:4px; }
.index td:nth-child(2) { word-break:break-all; }
a { color:var(--blue); }
.legend { display:flex; flex-wrap:wrap; gap:4px 16px; font-size:13px; color:var(--muted); margin:6px 0 4px; }
.legend span { display:inline-flex; align-items:center; gap:5px; }
.chart-wrap { margin:0 0 8px; }
svg.chart { width:100%; height:auto; display:block; }
.chart .tick { font-size:11px; fill:var(--muted); }
.chart .grid { stroke:#edf0f4; }
.chart .axis, .chart .day { stroke:#aab2bf; }
.weekend { fill:#f3f5f8; }
.priming { fill:#e9ebef; opacity:.8; }
.priming-label { font-size:11px; fill:#7a8394; font-style:italic; }
.incident { fill:var(--red); opacity:.09; }
.band { fill:#8fb8e8; opacity:.35; stroke:none; }
.expected { fill:none; stroke:#4a6b8a; stroke-width:1.2; stroke-dasharray:5 3; }
.threshold { fill:none; stroke:var(--red); stroke-width:1; stroke-dasharray:2 3; opacity:.7; }
.observed { fill:none; stroke:var(--blue); stroke-width:1.6; stroke-linejoin:round; }
.marker { stroke:#fff; stroke-width:1.5; }
.marker-spike, .marker-new_key { fill:var(--red); }
.marker-reminder { fill:var(--orange); stroke-width:1; }
.marker-resolved { fill:var(--green); }
.alerts { margin-top:6px; }
.alerts td.model { font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
.pill { display:inline-block; font-size:12px; font-weight:600; border-radius:10px; padding:0 8px; color:#fff; }
.pill-spike, .pill-new_key { background:var(--red); }
.pill-reminder { background:var(--orange); }
.pill-resolved { background:var(--green); }
pre { white-space:pre-wrap; font-size:13px; margin:10px 0 0; }
details summary { cursor:pointer; font-weight:600; }
`;
