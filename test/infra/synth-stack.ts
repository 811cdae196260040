// Shared setup of the infrastructure tests: one synthesized stack per configuration, built with the
// same feature flags `cdk synth` reads from cdk.json, so the tests see the template that deploys.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { buildApp } from '../../lib/build-app.ts';
import type { UsageSentinelStack } from '../../lib/usage-sentinel-stack.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** cdk.json's context without the `usageSentinel` key (the tests pass their own configuration). */
export function cdkJsonFeatureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const { usageSentinel: _config, ...flags } = cdkJson.context ?? {};
  return flags;
}

export interface SynthesizedStack {
  readonly app: App;
  readonly stack: UsageSentinelStack;
  readonly template: Template;
  readonly outdir: string;
}

/** Builds and synthesizes the stack for a raw `usageSentinel` object, validated as bin/app.ts does. */
export function synthStack(rawConfig: unknown, options: { functionEntry?: string } = {}): SynthesizedStack {
  const outdir = mkdtempSync(join(tmpdir(), 'usage-sentinel-infra-'));
  const { app, stack } = buildApp(parseConfig(rawConfig), {
    context: cdkJsonFeatureFlags(),
    outdir,
    functionEntry: options.functionEntry,
  });
  // Template.fromStack synthesizes the app, cdk-nag included: an unacknowledged finding throws here.
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir };
}

/** Every IAM action the stack's policies allow, with the policy's logical id. */
export function allowedActions(template: Template): { policy: string; action: string }[] {
  const found: { policy: string; action: string }[] = [];
  for (const [policy, resource] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    const statements = (resource as PolicyResource).Properties.PolicyDocument.Statement;
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action].flat()) found.push({ policy, action });
    }
  }
  return found;
}

export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

export interface PolicyResource {
  readonly Properties: {
    readonly PolicyDocument: { readonly Statement: PolicyStatementJson[] };
    readonly Roles: unknown[];
  };
}
