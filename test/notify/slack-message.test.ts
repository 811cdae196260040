import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../functions/core/alert.ts';
import { sparkline } from '../../functions/notify/alert-facts.ts';
import {
  checkBlockKitLimits,
  escapeMrkdwn,
  renderSlackAlert,
  renderSlackDigest,
  type SlackPayload,
} from '../../functions/notify/slack-message.ts';
import { manySpikes, resolvedAlert, SPIKE_HOUR, spikeAlert } from './support/alert-fixtures.ts';

const options = { timeZone: 'Europe/Berlin' };
const allText = (p: SlackPayload): string => JSON.stringify(p);

describe('renderSlackAlert', () => {
  it('says which key and project spiked, how far above normal, what it costs and what to do', () => {
    const payload = renderSlackAlert(spikeAlert(), options);
    expect(payload.text).toContain('batch-worker');
    expect(payload.text).toContain('Checkout &lt;prod&gt; &amp; co');
    expect(payload.text).toContain('12.4× normal');
    expect(payload.text).toContain('$6.20');
    expect(payload.text.toLowerCase()).not.toContain('resolved');
    const text = allText(payload);
    expect(text).toContain('sk-proj-****abcd');
    expect(text).toContain('proj_abc');
    expect(text).toContain('key_123');
    expect(text).toContain('gpt-4o-2024-08-06');
    expect(text).toContain('~$11.50'); // excess so far
    expect(text).toContain('more requests (runaway loop?)');
    expect(text).toContain('14:00–15:00 UTC');
    expect(text).toContain('15:00–16:00 Europe/Berlin');
    expect(text).toMatch(/[▁▂▃▄▅▆▇]+█/);
    expect(text).toContain('https://platform.openai.com/usage');
    expect(text).toContain('https://platform.openai.com/api-keys');
    expect(checkBlockKitLimits(payload)).toEqual([]);
  });

  it('blames bigger requests when tokens per request grew more than requests', () => {
    const bloated = spikeAlert({ requestsObserved: 110, requestsExpected: 100 });
    expect(allText(renderSlackAlert(bloated, options))).toContain('bigger requests (prompt bloat?)');
  });

  it('falls back to ids when names are unknown', () => {
    const payload = renderSlackAlert(spikeAlert({ names: undefined }), options);
    expect(payload.text).toContain('key_123 in proj_abc');
  });

  it('escapes Slack control characters in names, so a name cannot mention @channel or forge a link', () => {
    const sneaky = spikeAlert({
      names: { project: '<!channel> <https://evil.example|click>', apiKey: 'a&b' },
    });
    const payload = renderSlackAlert(sneaky, options);
    const mrkdwn = payload.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : [])).join('\n');
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).toContain('&lt;!channel&gt;');
    expect(payload.text).not.toContain('<');
    expect(payload.text).toContain('a&amp;b');
  });

  it('headlines a recovery notice as resolved, with its duration and total excess', () => {
    const payload = renderSlackAlert(resolvedAlert(), options);
    expect(payload.text).toMatch(/^Resolved: /);
    expect(payload.text).toContain('after 2 h');
    expect(payload.text).toContain('2.3M tokens');
    expect(payload.text).toContain('$11.50');
    expect(checkBlockKitLimits(payload)).toEqual([]);
  });

  it('headlines an incident closed as its new normal as such, not as back to normal', () => {
    const payload = renderSlackAlert(
      resolvedAlert({ durationHours: 56, observed: 2_800_000, expected: 1_000_000, newNormal: true }),
      options,
    );
    expect(payload.text).toMatch(/^Resolved: batch-worker in .+ taken as its new normal after 2 d 8 h/);
    expect(payload.text).not.toContain('back to normal');
    expect(allText(payload)).toContain('Usage did not come back down');
    expect(checkBlockKitLimits(payload)).toEqual([]);
  });

  it('renders new_key and reminder variants without the word resolved', () => {
    for (const type of ['new_key', 'reminder'] as const) {
      const payload = renderSlackAlert(
        spikeAlert({ type, expected: type === 'new_key' ? 0 : 100_000 }),
        options,
      );
      expect(payload.text.toLowerCase()).not.toContain('resolved');
      expect(payload.text).toContain('batch-worker');
      expect(checkBlockKitLimits(payload)).toEqual([]);
    }
    expect(renderSlackAlert(spikeAlert({ type: 'new_key' }), options).text).toMatch(/^New API key/);
    expect(renderSlackAlert(spikeAlert({ type: 'reminder' }), options).text).toMatch(/^Still above normal/);
    const escalated = spikeAlert({ type: 'reminder', severity: 'critical', escalated: true });
    expect(renderSlackAlert(escalated, options).text).toMatch(/^Escalated to critical: batch-worker/);
  });

  it('stays within every Block Kit limit whatever the names and numbers', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 5000 });
    fc.assert(
      fc.property(
        fc.record({
          project: text,
          apiKey: text,
          redacted: text,
          model: fc.option(text, { nil: null }),
          observed: fc.double({ min: 0, max: 1e13, noNaN: true }),
          expected: fc.double({ min: 0, max: 1e12, noNaN: true }),
          recent: fc.array(fc.double({ min: 0, max: 1e12, noNaN: true }), { maxLength: 400 }),
          type: fc.constantFrom<Alert['type']>('spike', 'new_key', 'reminder', 'resolved'),
        }),
        (r) => {
          const alert = spikeAlert({
            type: r.type,
            observed: r.observed,
            expected: r.expected,
            topModel: r.model,
            recentTokens: r.recent,
            durationHours: 5,
            names: { project: r.project, apiKey: r.apiKey, redactedKey: r.redacted },
          });
          expect(checkBlockKitLimits(renderSlackAlert(alert, options))).toEqual([]);
          expect(checkBlockKitLimits(renderSlackDigest([alert, alert, alert], options))).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('renderSlackDigest', () => {
  it('lists the top alerts by excess cost and counts the rest', () => {
    const payload = renderSlackDigest(manySpikes(25), { ...options, top: 10 });
    expect(payload.text).toMatch(/^25 usage alerts/);
    const text = allText(payload);
    expect(text).toContain('Project 24'); // biggest excess
    expect(text).toContain('Project 15');
    expect(text).not.toContain('Project 14'); // 11th by cost: counted, not listed
    expect(text).toContain('and 15 more');
    expect(checkBlockKitLimits(payload)).toEqual([]);
  });

  it('says resolved only when every alert in it is a recovery notice', () => {
    const recoveries = manySpikes(3).map((a) => ({ ...a, type: 'resolved' as const, durationHours: 2 }));
    expect(renderSlackDigest(recoveries, options).text).toContain('resolved');
    expect(renderSlackDigest([...manySpikes(3), resolvedAlert()], options).text.toLowerCase()).not.toContain(
      'resolved',
    );
  });

  it('fits 100 alerts with long names into one message', () => {
    const alerts = manySpikes(100).map((a) => ({
      ...a,
      names: { project: 'P'.repeat(4000), apiKey: '<&>'.repeat(900) },
    }));
    expect(checkBlockKitLimits(renderSlackDigest(alerts, { ...options, top: 40 }))).toEqual([]);
  });
});

describe('checkBlockKitLimits', () => {
  it('names each violation', () => {
    const problems = checkBlockKitLimits({
      text: '',
      blocks: [
        { type: 'header', text: { type: 'mrkdwn', text: 'x'.repeat(151) } },
        { type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } },
        { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'x' })) },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'x'.repeat(76) },
              url: `https://x/${'a'.repeat(3000)}`,
            },
          ],
        },
        ...Array.from({ length: 47 }, () => ({ type: 'divider' })),
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('top-level text'),
        expect.stringContaining('51 blocks'),
        expect.stringContaining('blocks[0].text must be plain_text'),
        expect.stringContaining('blocks[0].text.text has 151 chars'),
        expect.stringContaining('blocks[1].text.text has 3001 chars'),
        expect.stringContaining('blocks[2] has 11 elements'),
        expect.stringContaining('blocks[3].elements[0].text.text has 76 chars'),
        expect.stringContaining('blocks[3].elements[0].url'),
      ]),
    );
  });
});

describe('helpers', () => {
  it('draws a sparkline that ends high on a spike and stays flat on flat usage', () => {
    expect(sparkline([1, 1, 1, 8])).toBe('▂▂▂█');
    expect(sparkline([0, 0, 0])).toBe('▁▁▁');
    expect(sparkline([5, 5])).toBe('██');
  });

  it('escapes only what Slack treats as control characters', () => {
    expect(escapeMrkdwn('a & <b> *c*')).toBe('a &amp; &lt;b&gt; *c*');
  });

  it('shows only UTC when the configured zone is UTC', () => {
    const text = allText(renderSlackAlert(spikeAlert({ bucketStart: SPIKE_HOUR }), { timeZone: 'UTC' }));
    expect(text).toContain('*When:* 2025-03-04 14:00–15:00 UTC\\n');
    expect(text).not.toContain('UTC (');
  });
});
