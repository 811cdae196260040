// `backtest --report`: the command line writes the page from a simulated organization's usage pages, and
// a real headless Chromium opens it, checks the charts rendered and keeps a screenshot.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankSeries } from '../../bin/cli/backtest-report.ts';
import { MAX_CHART_POINTS, seriesChart } from '../../bin/cli/backtest-report-chart.ts';
import { renderReportHtml } from '../../bin/cli/backtest-report-html.ts';
import { scaleSensitivity, sweepSensitivities } from '../../bin/cli/backtest-report-replays.ts';
import { configSchema } from '../../functions/config/config-schema.ts';
import type { Alert } from '../../functions/core/alert.ts';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import { renderUsagePages } from '../../functions/local/simulated-usage-pages.ts';
import { type NodeOutput, runCli } from '../support/run-node.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'test/artifacts/backtest-report.png');

/** What the test reads of an SVG path in the page (the project compiles without the DOM's types). */
interface DrawnPath {
  getBBox(): { width: number; height: number };
  getAttribute(name: string): string | null;
}

describe('backtest --report', () => {
  let dir: string;
  let reportPath: string;
  let cli: NodeOutput;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backtest-report-'));
    const org = simulateOrganization({ seed: 7, keys: 20, weeks: 2 });
    const input = join(dir, 'usage.jsonl');
    writeFileSync(
      input,
      renderUsagePages(org, { start: org.start, end: org.end })
        .map((page) => `${JSON.stringify(page)}\n`)
        .join(''),
    );
    reportPath = join(dir, 'report.html');
    cli = await runCli(['backtest', '--input', input, '--report', reportPath], {
      cwd: ROOT,
      env: process.env,
    });
    // As execFile did: a failed command stops here, with what it said.
    if (cli.code !== 0) throw new Error(`backtest failed: ${cli.stderr}`);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes one self-contained page and says so', () => {
    expect(cli.stdout).toContain(`Report written to ${reportPath}`);
    expect(cli.stderr).toContain('Report: sensitivity');
    const html = readFileSync(reportPath, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\((?!#)/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).toContain("default-src 'none'");
  });

  it('renders in headless Chromium: charts with real lines, alert markers, the sweep; no errors', async () => {
    // CI installs chromium (.ci/run); a missing browser is a broken setup, not a reason to skip.
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install it with "apt-get install -y --no-install-recommends chromium" (.ci/run does)`,
      );
    }
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });

      const charts = await page.$$eval('svg.chart', (svgs) =>
        svgs.map((svg) => {
          const line = svg.querySelector('path.observed') as DrawnPath | null;
          const box = line?.getBBox();
          const frame = svg.getBoundingClientRect();
          return {
            lineWidth: box?.width ?? 0,
            lineHeight: box?.height ?? 0,
            pathLength: line?.getAttribute('d')?.length ?? 0,
            shownWidth: frame.width,
            shownHeight: frame.height,
            bands: svg.querySelectorAll('path.band').length,
            markers: svg.querySelectorAll('.marker').length,
            openings: svg.querySelectorAll('.marker-spike, .marker-new_key').length,
          };
        }),
      );
      expect(charts.length).toBeGreaterThan(0);
      for (const chart of charts) {
        expect(chart.pathLength).toBeGreaterThan(100);
        expect(chart.lineWidth).toBeGreaterThan(500);
        expect(chart.lineHeight).toBeGreaterThan(10);
        expect(chart.shownWidth).toBeGreaterThan(800);
        expect(chart.shownHeight).toBeGreaterThan(150);
        expect(chart.bands).toBeGreaterThan(0);
        expect(chart.markers).toBeGreaterThan(0);
      }
      expect(charts.reduce((sum, c) => sum + c.openings, 0)).toBeGreaterThan(0);

      // Each series' table lists exactly the alerts its chart marks.
      const tableRows = await page.$$eval('section.series table.alerts', (tables) =>
        tables.map((t) => t.querySelectorAll('tbody tr').length),
      );
      expect(tableRows).toEqual(charts.map((c) => c.markers));

      const sweep = await page.$$eval('table.sweep-table tbody tr', (rows) =>
        rows.map((r) => ({
          current: r.classList.contains('current'),
          cells: r.querySelectorAll('td').length,
        })),
      );
      expect(sweep.length).toBeGreaterThanOrEqual(3);
      expect(sweep.filter((r) => r.current)).toHaveLength(1);

      expect(problems).toEqual([]);
      expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);

      mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
    } finally {
      await browser?.close();
    }
  });
});

describe('report page', () => {
  const alert = (over: Partial<Alert>): Alert => ({
    id: 'a1',
    type: 'spike',
    projectId: 'proj_<b>',
    apiKeyId: 'key_"x"',
    bucketStart: 1_760_918_400,
    incidentStart: 1_760_918_400,
    metric: 'tokens',
    observed: 900_000,
    expected: 100_000,
    severity: 'high',
    usdObserved: 9,
    usdExpected: 1,
    requestsObserved: 10,
    requestsExpected: 1,
    excessTokensTotal: 800_000,
    excessUsdTotal: 8,
    topModel: 'gpt-<i>',
    recentTokens: [],
    names: { project: '<script>alert(1)</script>', apiKey: 'key & "co"' },
    ...over,
  });

  it('escapes ids and names from the API', () => {
    const spike = alert({});
    const start = spike.bucketStart - 168 * 3600;
    const html = renderReportHtml({
      sourceLabel: '<in>.jsonl',
      start,
      end: spike.bucketStart + 24 * 3600,
      alertsFrom: start + 167 * 3600,
      hours: 192,
      seriesSeen: 1,
      alerts: [spike],
      summaryText: '<summary>',
      series: [
        {
          id: { projectId: spike.projectId, apiKeyId: spike.apiKeyId },
          names: spike.names ?? {},
          observed: new Array(192).fill(1000),
          bands: [],
          alerts: [spike],
        },
      ],
      seriesAlerted: 1,
      sensitivity: 5,
      sweep: [{ factor: 1, sensitivity: 5, opened: 1, perWeek: 7, series: 1 }],
      generatedAt: new Date(0),
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('gpt-<i>');
    expect(html).not.toContain('<in>');
    expect(html).not.toContain('<summary>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; / key &amp; &quot;co&quot;');
  });

  it('sweeps sensitivities within the schema bounds, without repeats, scaling overrides alike', () => {
    expect(sweepSensitivities(5).map((s) => s.sensitivity)).toEqual([3, 4, 5, 6.25, 7.5]);
    expect(sweepSensitivities(1).map((s) => s.sensitivity)).toEqual([1, 1.25, 1.5]);
    expect(sweepSensitivities(20).map((s) => s.sensitivity)).toEqual([12, 16, 20]);
    const config = configSchema.parse({
      overrides: { apiKeys: { key_a: { sensitivity: 10 }, key_b: { minRatio: 3 } } },
    });
    const scaled = scaleSensitivity(config, 1.5);
    expect(scaled.detection.sensitivity).toBeCloseTo(Math.min(20, config.detection.sensitivity * 1.5));
    expect(scaled.overrides.apiKeys.key_a?.sensitivity).toBe(15);
    expect(scaled.overrides.apiKeys.key_b?.minRatio).toBe(3);
  });

  it('downsamples long ranges to bounded charts, keeping the peaks', () => {
    const hours = 92 * 24;
    const observed = Array.from({ length: hours }, (_, i) => (i === 1500 ? 5_000_000 : 10_000));
    const bands = observed.map(() => ({ expected: 10_000, low: 8_000, high: 12_000, threshold: 60_000 }));
    const chart = seriesChart({
      start: 1_760_313_600,
      alertsFrom: 1_760_313_600 + 167 * 3600,
      observed,
      bands,
      alerts: [alert({ bucketStart: 1_760_313_600 + 1500 * 3600, observed: 5_000_000 })],
      label: 'x',
      chartId: 'long',
    });
    expect(chart.hoursPerPoint).toBe(Math.ceil(hours / MAX_CHART_POINTS));
    const line = /<path class="observed" d="M([^"]+)"/.exec(chart.svg)?.[1] ?? '';
    const points = line.split('L').map((p) => p.split(',').map(Number));
    expect(points.length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    // The one spike survives downsampling as the highest point (smallest y) of the line.
    const top = Math.min(...points.map(([, y]) => y ?? Number.POSITIVE_INFINITY));
    const markerY = Number(/class="marker marker-spike" cx="[^"]+" cy="([^"]+)"/.exec(chart.svg)?.[1]);
    expect(top).toBeCloseTo(markerY, 0);
  });

  it('ranks series by incidents, then alerts, then excess USD', () => {
    const a = (apiKeyId: string, type: Alert['type'], usd = 1) =>
      alert({ apiKeyId, type, excessUsdTotal: usd });
    const ranked = rankSeries([
      a('k1', 'spike'),
      a('k2', 'spike'),
      a('k2', 'reminder'),
      a('k3', 'spike', 5),
      a('k4', 'spike'),
      a('k4', 'spike'),
    ]);
    expect(ranked.map((r) => r.id.apiKeyId)).toEqual(['k4', 'k2', 'k3', 'k1']);
  });
});
