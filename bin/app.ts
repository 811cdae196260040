#!/usr/bin/env node
// CDK app entry point: reads the `usageSentinel` context (cdk.json, or -c), validates it once, and
// stops synth with the validation message when it is wrong.
import { App } from 'aws-cdk-lib';
import { ConfigError, parseConfig } from '../functions/config/parse-config.ts';
import { addUsageSentinel } from '../lib/build-app.ts';

/** `cdk synth -c usageSentinel='{...}'` passes the object as a JSON string. */
function contextObject(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value; // parseConfig then reports what it got
  }
}

// Synthesized explicitly below, so a bad configuration leaves no half-made assembly behind.
const app = new App({ autoSynth: false });
try {
  const config = parseConfig(
    contextObject(app.node.tryGetContext('usageSentinel')),
    'cdk.json context "usageSentinel"',
  );
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  addUsageSentinel(app, config, { env: account || region ? { account, region } : undefined });
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
