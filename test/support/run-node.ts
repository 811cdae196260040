// Child processes of the pinned Node 24 (node_modules/.bin/node), as a user or Lambda would start them:
// the command line, or any script. The output is collected whole and the exit code returned, never thrown,
// so each test says what it expects of both.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

const NODE = join(REPO_ROOT, 'node_modules/.bin/node');
const CLI_ENTRY = join(REPO_ROOT, 'bin/usage-sentinel.ts');

export interface NodeOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunNodeOptions {
  cwd: string;
  /** The child's whole environment (entries left undefined are not set). */
  env: Record<string, string | undefined>;
}

/** Runs `node ...args` to its exit. */
export function runNode(args: readonly string[], options: RunNodeOptions): Promise<NodeOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
}

/** Runs `node bin/usage-sentinel.ts ...args` to its exit. */
export function runCli(args: readonly string[], options: RunNodeOptions): Promise<NodeOutput> {
  return runNode([CLI_ENTRY, ...args], options);
}

/**
 * Only a PATH, a HOME and no colours, plus `extra`: no admin key or AWS setting leaks in from the test's
 * own environment.
 */
export function bareEnv(
  home: string | undefined,
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  return { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', ...extra };
}
