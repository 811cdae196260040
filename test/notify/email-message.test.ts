import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailSubject, renderEmailAlert, renderEmailDigest } from '../../functions/notify/email-message.ts';
import { manySpikes, resolvedAlert, spikeAlert } from './support/alert-fixtures.ts';

const options = { timeZone: 'America/New_York' };
const validSubject = (s: string) => {
  expect(s.length).toBeLessThan(100);
  expect(s).toMatch(/^[\x20-\x7e]+$/);
};

describe('renderEmailAlert', () => {
  it('gives a short ASCII subject and a plain body with the same facts as Slack', () => {
    const email = renderEmailAlert(spikeAlert(), options);
    validSubject(email.subject);
    expect(email.subject).toContain('12.4x normal');
    expect(email.subject).toContain('batch-worker');
    expect(email.subject.toLowerCase()).not.toContain('resolved');
    for (const fact of [
      'Checkout <prod> & co (proj_abc)', // no Slack escaping in email
      'batch-worker sk-proj-****abcd (key_123)',
      '12.4× normal',
      '~$6.20 this hour',
      '~$11.50',
      'gpt-4o-2024-08-06',
      'runaway loop?',
      '14:00–15:00 UTC',
      '09:00–10:00 America/New_York',
      'https://platform.openai.com/usage',
      'https://platform.openai.com/api-keys',
    ]) {
      expect(email.message).toContain(fact);
    }
    expect(email.message).toMatch(/[▁▂▃▄▅▆▇]+█/);
    expect(email.message).not.toMatch(/\*[A-Z][a-z ]+:\*|`|&amp;|&lt;/); // no markdown noise
    expect(email.attributes).toEqual({
      type: { DataType: 'String', StringValue: 'spike' },
      severity: { DataType: 'String', StringValue: 'high' },
      project_id: { DataType: 'String', StringValue: 'proj_abc' },
      api_key_id: { DataType: 'String', StringValue: 'key_123' },
    });
  });

  it('says resolved in the subject of a recovery notice, with duration and excess', () => {
    const email = renderEmailAlert(resolvedAlert({ apiKeyId: null }), options);
    validSubject(email.subject);
    expect(email.subject).toContain('Resolved');
    expect(email.subject).toContain('after 2 h');
    expect(email.subject).toContain('$11.50');
    expect(email.attributes.api_key_id).toEqual({ DataType: 'String', StringValue: 'none' });
  });

  it("says in a reminder's subject when the incident rose a severity level, and what the hour costs", () => {
    const still = renderEmailAlert(spikeAlert({ type: 'reminder' }), options);
    expect(still.subject).toMatch(/^\[usage-sentinel\] Still high 12.4x normal: batch-worker/);
    const escalated = renderEmailAlert(
      spikeAlert({ type: 'reminder', severity: 'critical', escalated: true }),
      options,
    );
    validSubject(escalated.subject);
    expect(escalated.subject).toMatch(/^\[usage-sentinel\] Escalated to critical 12.4x normal: batch-worker/);
    expect(escalated.attributes.severity).toEqual({ DataType: 'String', StringValue: 'critical' });
  });

  it('says in the subject and the body when an incident closed as its new normal', () => {
    const email = renderEmailAlert(resolvedAlert({ durationHours: 56, newNormal: true }), options);
    validSubject(email.subject);
    expect(email.subject).toMatch(
      /^\[usage-sentinel\] Resolved as new normal: batch-worker .* after 2 d 8 h/,
    );
    expect(email.message).toContain('Usage did not come back down');
    expect(email.message).not.toContain('back to normal');
  });

  it("tells a recovery notice's reader to rotate a key whose spike was not theirs, before its hours recur", () => {
    const { message } = renderEmailAlert(resolvedAlert(), options);
    expect(message).toContain('rotate the key now');
    expect(message).toContain('may pass for a recurring job and page no one');
    expect(message).not.toContain('No action needed');
  });

  it('keeps any subject ASCII, on one line and under 100 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (name) => {
        const alert = spikeAlert({ names: { project: name, apiKey: `${name}\r\nBcc: x@example.com` } });
        validSubject(renderEmailAlert(alert, options).subject);
        validSubject(emailSubject(name));
        expect(renderEmailAlert(alert, options).message).not.toContain('\nBcc:');
      }),
    );
  });
});

describe('renderEmailDigest', () => {
  it('lists the top alerts, counts the rest, and lets every filter match through arrays', () => {
    const alerts = [...manySpikes(12), resolvedAlert({ severity: 'critical' })];
    const email = renderEmailDigest(alerts, { ...options, top: 5 });
    validSubject(email.subject);
    expect(email.subject).toContain('13 usage alerts');
    expect(email.subject.toLowerCase()).not.toContain('resolved');
    expect(email.message).toContain('Project 11');
    expect(email.message).not.toContain('Project 6 ');
    expect(email.message).toContain('and 8 more');
    expect(email.attributes.severity.DataType).toBe('String.Array');
    expect(JSON.parse(email.attributes.severity.StringValue)).toEqual(
      expect.arrayContaining(['high', 'critical']),
    );
    expect(JSON.parse(email.attributes.type.StringValue)).toEqual(['digest', 'spike', 'resolved']);
  });
});
