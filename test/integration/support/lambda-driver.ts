// Runs the bundled Lambda function as the Lambda runtime would: imports the bundle's `index.mjs`, then
// calls its handler with a scheduled event and a fake context, once per argument after the bundle path.
// Each invocation's result goes to stdout as one line `@@invocation <json>`, between the function's own
// log and metric lines. Usage: node lambda-driver.ts <bundle/index.mjs> <scheduledTime>...
import { pathToFileURL } from 'node:url';
import { INVOCATION_MARKER } from './lambda-invocation.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const [bundle, ...scheduledTimes] = process.argv.slice(2);
if (!bundle) throw new Error('usage: lambda-driver.ts <bundle/index.mjs> <scheduledTime>...');
const loaded = (await import(pathToFileURL(bundle).href)) as { handler?: Handler };
const handler = loaded.handler;
if (typeof handler !== 'function') throw new Error(`${bundle} exports no handler function`);

let n = 0;
for (const scheduledTime of scheduledTimes) {
  n += 1;
  const context = {
    awsRequestId: `00000000-0000-4000-8000-00000000000${n}`,
    functionName: 'UsageSentinel-SentinelFunction',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:UsageSentinel-SentinelFunction',
    memoryLimitInMB: '1024',
    logGroupName: '/aws/lambda/UsageSentinel-SentinelFunction',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 280_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const event = { source: 'usage-sentinel.schedule', scheduledTime };
  try {
    const result = await handler(event, context);
    process.stdout.write(`${INVOCATION_MARKER}${JSON.stringify({ ok: true, result })}\n`);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    process.stdout.write(
      `${INVOCATION_MARKER}${JSON.stringify({ ok: false, name: e.name, message: e.message })}\n`,
    );
  }
}
