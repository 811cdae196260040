// The one schema of the `usageSentinel` configuration (cdk.json context), shared by the CDK app,
// the Lambda function and the command line. Every key has a default, so `{}` deploys.
import { z } from 'zod';
import { FALLBACK_PRICE } from './default-prices.ts';

const id = z.string().min(1);
const ids = z.array(id).default([]);

const price = z.strictObject({
  input: z.number().nonnegative().describe('USD per million input tokens'),
  cachedInput: z.number().nonnegative().describe('USD per million cached input tokens'),
  output: z.number().nonnegative().describe('USD per million output tokens'),
});
export type Price = z.infer<typeof price>;

const ianaTimeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' },
);

/** Thresholds of the detector; all of them must be crossed for an hour to open an incident. */
export const detectionSchema = z.strictObject({
  sensitivity: z
    .number()
    .min(1)
    .max(20)
    .default(6)
    .describe('Robust distance (in scaled MADs) above the seasonal baseline an hour must reach'),
  minRatio: z.number().min(1).max(1000).default(2.5).describe('Observed / expected at least this'),
  singleHourRatio: z
    .number()
    .min(1)
    .max(1000)
    .default(4.5)
    .describe(
      'An hour alone opens an incident only at this many times its baseline; under it, the next hour must be elevated too',
    ),
  minExcessTokens: z
    .number()
    .int()
    .nonnegative()
    .default(50_000)
    .describe('Tokens over the baseline in the hour at least this'),
  minExcessUsd: z
    .number()
    .nonnegative()
    .default(0)
    .describe('Estimated USD over the baseline in the hour (0: tokens alone decide materiality)'),
  warmupHours: z
    .number()
    .int()
    .min(0)
    .max(24 * 28)
    .default(72)
    .describe('History needed before relative alerts'),
  recoveryHours: z
    .number()
    .int()
    .min(1)
    .max(48)
    .default(3)
    .describe('Hours back within the baseline before an incident resolves'),
  newKeyMinTokens: z
    .number()
    .int()
    .nonnegative()
    .default(200_000)
    .describe('Tokens in an hour that make a key with no history alert as new_key'),
});
export type DetectionConfig = z.infer<typeof detectionSchema>;

/** Overrides name only what they change: no defaults, so unset keys fall through to the project or the top level. */
const detectionOverride = z.strictObject(withoutDefaults(detectionSchema.shape));

function withoutDefaults<Shape extends Record<string, z.ZodDefault<z.ZodType>>>(
  shape: Shape,
): { [K in keyof Shape]: z.ZodOptional<ReturnType<Shape[K]['unwrap']>> } {
  return Object.fromEntries(
    Object.entries(shape).map(([key, field]) => [key, field.unwrap().optional()]),
  ) as { [K in keyof Shape]: z.ZodOptional<ReturnType<Shape[K]['unwrap']>> };
}

const mute = z
  .strictObject({
    projectId: id.optional(),
    apiKeyId: id.optional(),
    until: z.iso.datetime({ offset: true }).or(z.iso.date()).describe('ISO 8601 date or date-time'),
    reason: z.string().optional(),
  })
  .refine((m) => m.projectId !== undefined || m.apiKeyId !== undefined, {
    message: 'a mute needs projectId, apiKeyId or both',
  });

const secretRef = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, {
  message: 'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)',
});

export const configSchema = z.strictObject({
  watch: z
    .strictObject({
      projectIds: ids.describe('Only these projects (empty: all)'),
      apiKeyIds: ids.describe('Only these API keys (empty: all)'),
      models: ids.describe('Only these models (empty: all)'),
      excludeProjectIds: ids.describe('Never these projects'),
      excludeApiKeyIds: ids.describe('Never these API keys'),
      batch: z.enum(['include', 'exclude', 'only']).default('include').describe('Batch API usage'),
    })
    .prefault({}),
  schedule: z
    .strictObject({
      minute: z.number().int().min(0).max(59).default(10).describe('Minute past each hour the run starts'),
      graceMinutes: z
        .number()
        .int()
        .min(0)
        .max(120)
        .default(10)
        .describe('Wait after an hour closes before it is evaluated (late revisions)'),
    })
    .prefault({}),
  detection: detectionSchema.prefault({}),
  overrides: z
    .strictObject({
      projects: z.record(id, detectionOverride).default({}).describe('Per project id'),
      apiKeys: z.record(id, detectionOverride).default({}).describe('Per API key id'),
    })
    .prefault({}),
  mutes: z.array(mute).default([]),
  notifications: z
    .strictObject({
      emails: z.array(z.email()).default([]).describe('Subscribed to the SNS topic'),
      recoveryNotices: z.boolean().default(true),
      repeatEveryHours: z
        .number()
        .int()
        .min(0)
        .max(168)
        .default(6)
        .describe('Remind of a still-open incident (0: never)'),
      timeZone: ianaTimeZone.default('UTC').describe('Time zone shown beside UTC'),
      digestAfter: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(5)
        .describe('More alerts than this in one run become one digest'),
    })
    .prefault({}),
  secrets: z
    .strictObject({
      openAiAdminKeyArn: secretRef.optional().describe('Existing secret; otherwise the stack creates one'),
      slackWebhookArn: secretRef.optional().describe('Existing secret; otherwise the stack creates one'),
      projectSlackWebhookArns: z
        .record(id, secretRef)
        .default({})
        .describe("Per project id: a secret holding that team's own Slack webhook URL"),
    })
    .prefault({}),
  prices: z
    .strictObject({
      models: z
        .record(id, price)
        .default({})
        .describe('USD per million tokens by model prefix, over the built-in table'),
      fallback: price.default(FALLBACK_PRICE).describe('For models not in the table'),
    })
    .prefault({}),
});

export type SentinelConfig = z.infer<typeof configSchema>;
export type SentinelConfigInput = z.input<typeof configSchema>;
