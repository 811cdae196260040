// The usage API's response shapes (openai-openapi spec 2.3.0), validated where they cross into the project.
// Objects are loose: the API adds fields over time, and an unknown field must never fail a run.
// Only what the project reads is required; every optional counter may be absent or null.
import { z } from 'zod';

const count = z.number().nonnegative();
const optionalCount = count.nullish();
const groupingString = z.string().nullish();

/** One `organization.usage.completions.result`: the usage of one group in one bucket. */
export const completionsResultSchema = z.looseObject({
  object: z.string().optional(),
  input_tokens: count,
  output_tokens: count,
  num_model_requests: count,
  input_cached_tokens: optionalCount,
  input_cache_write_tokens: optionalCount,
  input_uncached_tokens: optionalCount,
  input_text_tokens: optionalCount,
  output_text_tokens: optionalCount,
  input_cached_text_tokens: optionalCount,
  input_audio_tokens: optionalCount,
  input_cached_audio_tokens: optionalCount,
  output_audio_tokens: optionalCount,
  input_image_tokens: optionalCount,
  input_cached_image_tokens: optionalCount,
  output_image_tokens: optionalCount,
  project_id: groupingString,
  user_id: groupingString,
  api_key_id: groupingString,
  model: groupingString,
  service_tier: groupingString,
  batch: z.boolean().nullish(),
});
export type CompletionsResult = z.infer<typeof completionsResultSchema>;

const bucketTimes = {
  object: z.string().optional(),
  start_time: z.number().int(),
  end_time: z.number().int(),
};

export const usageBucketSchema = z.looseObject({ ...bucketTimes, results: z.array(completionsResultSchema) });
export type UsageBucket = z.infer<typeof usageBucketSchema>;

const pageFields = {
  object: z.string().optional(),
  has_more: z.boolean(),
  next_page: z.string().nullish(),
};

export const usagePageSchema = z.looseObject({ ...pageFields, data: z.array(usageBucketSchema) });
export type UsagePage = z.infer<typeof usagePageSchema>;

/** The costs endpoint sometimes sends `amount.value` as a string ("0.06"); both become a number. */
const amountValue = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, { message: 'expected a number or a numeric string' })
    .transform(Number),
]);

export const costsResultSchema = z.looseObject({
  object: z.string().optional(),
  amount: z.looseObject({ value: amountValue, currency: z.string().nullish() }),
  line_item: z.string().nullish(),
  project_id: z.string().nullish(),
  api_key_id: z.string().nullish(),
});

export const costsPageSchema = z.looseObject({
  ...pageFields,
  data: z.array(z.looseObject({ ...bucketTimes, results: z.array(costsResultSchema) })),
});
export type CostsPage = z.infer<typeof costsPageSchema>;

const listFields = {
  object: z.string().optional(),
  first_id: z.string().nullish(),
  last_id: z.string().nullish(),
  has_more: z.boolean(),
};

export const projectListSchema = z.looseObject({
  ...listFields,
  data: z.array(z.looseObject({ id: z.string(), name: z.string().nullish(), status: z.string().nullish() })),
});
export type ProjectList = z.infer<typeof projectListSchema>;

export const projectApiKeyListSchema = z.looseObject({
  ...listFields,
  data: z.array(
    z.looseObject({ id: z.string(), name: z.string().nullish(), redacted_value: z.string().nullish() }),
  ),
});
export type ProjectApiKeyList = z.infer<typeof projectApiKeyListSchema>;

/** `{"error": {"message", "type", "param", "code"}}`, the body of every error answer. */
export const errorBodySchema = z.looseObject({
  error: z.looseObject({ message: z.string().nullish(), type: z.string().nullish() }),
});

/** `data[3].results[0].input_tokens: expected number, received string` for each of the first issues. */
export function describeSchemaIssues(error: z.ZodError, maxIssues = 3): string {
  const lines = error.issues.slice(0, maxIssues).map((issue) => {
    const message = issue.message.replace(/^Invalid input: /, '');
    return `${formatPath(issue.path)}: ${message}`;
  });
  const more = error.issues.length - maxIssues;
  return more > 0 ? `${lines.join('; ')} (and ${more} more)` : lines.join('; ');
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(body)';
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text ? `.${String(part)}` : String(part);
  }
  return text;
}
