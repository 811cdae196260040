// One series' hourly tokens as an inline SVG: the observed line, the baseline's expectation and its band,
// the alert threshold, incidents shaded and alerts marked. Pure: data in, markup out.
import type { Alert } from '../../functions/core/alert.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import type { BandPoint } from './backtest-report-band.ts';
import { escapeHtml, formatTokens, hourUtc } from './backtest-report-format.ts';

export interface SeriesChartInput {
  /** Unix seconds of hour index 0. */
  start: number;
  /** Alerts count from this hour; earlier hours only primed the baseline. */
  alertsFrom: number;
  /** Tokens per hour. */
  observed: readonly number[];
  /** The baseline per hour; missing before the series was first seen. */
  bands: ReadonlyArray<BandPoint | null | undefined>;
  alerts: readonly Alert[];
  /** For screen readers. */
  label: string;
  /** Unique in the page (the clip path's id). */
  chartId: string;
}

/** More hours than this are merged into groups (peak of the observed, mean of the baseline). */
export const MAX_CHART_POINTS = 600;

const WIDTH = 1100;
const HEIGHT = 250;
const M = { left: 58, right: 14, top: 12, bottom: 28 };
const PLOT_W = WIDTH - M.left - M.right;
const PLOT_H = HEIGHT - M.top - M.bottom;

export interface ChartMarkup {
  svg: string;
  /** Hours each drawn point stands for (1 unless downsampled). */
  hoursPerPoint: number;
}

export function seriesChart(input: SeriesChartInput): ChartMarkup {
  const n = input.observed.length;
  const group = Math.max(1, Math.ceil(n / MAX_CHART_POINTS));
  const points = downsample(input, group);

  let top = 0;
  // Scaled to the usage and its expectation; a noisy key's wide band or threshold is clipped, not allowed to flatten the line.
  for (const p of points) top = Math.max(top, p.observed, p.band?.expected ?? 0);
  const ticks = niceTicks(top > 0 ? top * 1.05 : 1000);
  const yMax = ticks.at(-1) ?? 1;
  const x = (hourIndex: number) => M.left + (n <= 1 ? 0 : (hourIndex / (n - 1)) * PLOT_W);
  const y = (tokens: number) => M.top + PLOT_H - (Math.min(Math.max(tokens, 0), yMax * 1.5) / yMax) * PLOT_H;
  const f = (v: number) => v.toFixed(1);

  const parts: string[] = [];
  const clipId = `clip-${input.chartId}`;
  parts.push(
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(input.label)}" xmlns="http://www.w3.org/2000/svg">`,
    `<defs><clipPath id="${clipId}"><rect x="${M.left}" y="${M.top}" width="${PLOT_W}" height="${PLOT_H}"/></clipPath></defs>`,
  );

  // Weekends, then the priming week, behind everything.
  const hourIndexOf = (t: number) => (t - input.start) / HOUR_SECONDS;
  const firstDay = Math.floor(input.start / 86_400) * 86_400;
  const end = input.start + n * HOUR_SECONDS;
  for (let d = firstDay; d < end; d += 86_400) {
    const weekday = new Date(d * 1000).getUTCDay();
    if (weekday !== 0 && weekday !== 6) continue;
    const a = x(Math.max(0, hourIndexOf(d)));
    const b = x(Math.min(n - 1, hourIndexOf(d + 86_400)));
    if (b > a)
      parts.push(`<rect class="weekend" x="${f(a)}" y="${M.top}" width="${f(b - a)}" height="${PLOT_H}"/>`);
  }
  const primingEnd = Math.min(n - 1, hourIndexOf(input.alertsFrom));
  if (primingEnd > 0) {
    parts.push(
      `<rect class="priming" x="${M.left}" y="${M.top}" width="${f(x(primingEnd) - M.left)}" height="${PLOT_H}"/>`,
      `<text class="priming-label" x="${M.left + 8}" y="${M.top + 14}">priming week: learns, no alerts</text>`,
    );
  }
  // Incidents, from the hour they opened to the hour they resolved (or the end).
  for (const span of incidentSpans(input.alerts, end)) {
    const a = x(hourIndexOf(span.from));
    const b = x(Math.min(n - 1, hourIndexOf(span.to)));
    parts.push(
      `<rect class="incident" x="${f(a)}" y="${M.top}" width="${f(Math.max(2, b - a))}" height="${PLOT_H}"/>`,
    );
  }

  // Gridlines and axes.
  for (const t of ticks) {
    parts.push(
      `<line class="grid" x1="${M.left}" x2="${M.left + PLOT_W}" y1="${f(y(t))}" y2="${f(y(t))}"/>`,
      `<text class="tick" x="${M.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${formatTokens(t)}</text>`,
    );
  }
  const days = Math.ceil(n / 24);
  const dayStep = Math.max(1, Math.ceil(days / 14));
  for (let d = firstDay, i = 0; d < end; d += 86_400, i++) {
    if (d < input.start || i % dayStep !== 0) continue;
    const px = x(hourIndexOf(d));
    const label = new Date(d * 1000).toLocaleDateString('en-US', {
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    });
    parts.push(
      `<line class="day" x1="${f(px)}" x2="${f(px)}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H + 4}"/>`,
      `<text class="tick" x="${f(px + 3)}" y="${HEIGHT - 9}">${escapeHtml(label)}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${M.left}" x2="${M.left + PLOT_W}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H}"/>`,
  );

  // The baseline: band, threshold, expectation; then the observed line over them.
  parts.push(`<g clip-path="url(#${clipId})">`);
  for (const run of bandRuns(points)) {
    const upper = run.map((p) => `${f(x(p.index))},${f(y(p.band.high))}`);
    const lower = run.map((p) => `${f(x(p.index))},${f(y(p.band.low))}`).reverse();
    parts.push(`<path class="band" d="M${upper.join('L')}L${lower.join('L')}Z"/>`);
    parts.push(
      `<path class="threshold" d="M${run.map((p) => `${f(x(p.index))},${f(y(p.band.threshold))}`).join('L')}"/>`,
    );
    parts.push(
      `<path class="expected" d="M${run.map((p) => `${f(x(p.index))},${f(y(p.band.expected))}`).join('L')}"/>`,
    );
  }
  parts.push(
    `<path class="observed" d="M${points.map((p) => `${f(x(p.index))},${f(y(p.observed))}`).join('L')}"/>`,
    '</g>',
  );

  // Alerts: openings on top, so they stay visible where reminders crowd.
  const order: Record<string, number> = { reminder: 0, resolved: 1, new_key: 2, spike: 3 };
  const sorted = [...input.alerts].sort((a, b) => (order[a.type] ?? 0) - (order[b.type] ?? 0));
  for (const alert of sorted) {
    const px = f(x(hourIndexOf(alert.bucketStart)));
    const py = f(y(alert.observed));
    const title = `<title>${escapeHtml(`${alert.type} ${hourUtc(alert.bucketStart)} UTC: ${formatTokens(alert.observed)} tokens, expected ${formatTokens(alert.expected)}`)}</title>`;
    const cls = `marker marker-${alert.type}`;
    if (alert.type === 'new_key') {
      parts.push(
        `<rect class="${cls}" x="${Number(px) - 5}" y="${Number(py) - 5}" width="10" height="10">${title}</rect>`,
      );
    } else {
      const r = alert.type === 'reminder' ? 3 : 5.5;
      parts.push(`<circle class="${cls}" cx="${px}" cy="${py}" r="${r}">${title}</circle>`);
    }
  }
  parts.push('</svg>');
  return { svg: parts.join(''), hoursPerPoint: group };
}

interface ChartPoint {
  /** Hour index of the group's middle. */
  index: number;
  observed: number;
  band: BandPoint | undefined;
}

function downsample(input: SeriesChartInput, group: number): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (let i = 0; i < input.observed.length; i += group) {
    const last = Math.min(input.observed.length, i + group);
    let peak = 0;
    const sums = { expected: 0, low: 0, high: 0, threshold: 0 };
    let banded = 0;
    for (let j = i; j < last; j++) {
      peak = Math.max(peak, input.observed[j] ?? 0);
      const b = input.bands[j];
      if (!b) continue;
      banded += 1;
      sums.expected += b.expected;
      sums.low += b.low;
      sums.high += b.high;
      sums.threshold += b.threshold;
    }
    out.push({
      index: group === 1 ? i : (i + last - 1) / 2,
      observed: peak,
      band:
        banded === 0
          ? undefined
          : {
              expected: sums.expected / banded,
              low: sums.low / banded,
              high: sums.high / banded,
              threshold: sums.threshold / banded,
            },
    });
  }
  return out;
}

/** Consecutive points that have a band (a series has none before it is first seen). */
function bandRuns(points: readonly ChartPoint[]): Array<Array<{ index: number; band: BandPoint }>> {
  const runs: Array<Array<{ index: number; band: BandPoint }>> = [];
  let current: Array<{ index: number; band: BandPoint }> = [];
  for (const p of points) {
    if (p.band) current.push({ index: p.index, band: p.band });
    else if (current.length) {
      runs.push(current);
      current = [];
    }
  }
  if (current.length) runs.push(current);
  return runs;
}

function incidentSpans(alerts: readonly Alert[], end: number): Array<{ from: number; to: number }> {
  const byStart = new Map<number, number>();
  for (const a of alerts) {
    if (a.type === 'resolved') byStart.set(a.incidentStart, a.bucketStart);
    else if (a.type === 'spike' && !byStart.has(a.incidentStart)) byStart.set(a.incidentStart, end);
  }
  return [...byStart].map(([from, to]) => ({ from, to }));
}

/** Round gridline values from 0 to at least `max`. */
export function niceTicks(max: number): number[] {
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) {
    ticks.push(t);
    if (t >= max) break;
  }
  return ticks;
}
