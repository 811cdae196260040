import { App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SentinelConfig } from '../functions/config/config-schema.ts';
import { UsageSentinelStack } from './usage-sentinel-stack.ts';

export const STACK_NAME = 'UsageSentinel';

export interface AddUsageSentinelOptions {
  /** Account and region to pin; leave out for an environment-agnostic template. */
  readonly env?: Environment | undefined;
  /** Run the cdk-nag AWS Solutions checks at synth (default true). */
  readonly nag?: boolean | undefined;
  /** Replaces functions/handler.ts as the function's entry (tests). */
  readonly functionEntry?: string | undefined;
}

/** Adds the stack and the cdk-nag checks to an app whose configuration is already validated. */
export function addUsageSentinel(
  app: App,
  config: SentinelConfig,
  options: AddUsageSentinelOptions = {},
): UsageSentinelStack {
  const stack = new UsageSentinelStack(app, STACK_NAME, {
    config,
    env: options.env,
    functionEntry: options.functionEntry,
    description: 'usage-sentinel: hourly spike alerts for OpenAI API usage per key and project',
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

export interface BuildAppOptions extends AddUsageSentinelOptions {
  /** Context for the App, e.g. cdk.json's feature flags. */
  readonly context?: Record<string, unknown> | undefined;
  readonly outdir?: string | undefined;
}

/** A fresh App holding the stack: what tests synthesize without spawning the CLI. */
export function buildApp(
  config: SentinelConfig,
  options: BuildAppOptions = {},
): { app: App; stack: UsageSentinelStack } {
  const app = new App({ context: options.context, outdir: options.outdir });
  const stack = addUsageSentinel(app, config, options);
  return { app, stack };
}
