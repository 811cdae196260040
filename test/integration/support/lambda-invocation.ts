// The line protocol between the Lambda driver (a child process) and the bundle test.
export const INVOCATION_MARKER = '@@invocation ';

export type InvocationResult = { ok: true; result: unknown } | { ok: false; name: string; message: string };

/** The invocation results a driver printed, in order. */
export function invocationResults(stdout: string): InvocationResult[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(INVOCATION_MARKER))
    .map((line) => JSON.parse(line.slice(INVOCATION_MARKER.length)) as InvocationResult);
}
