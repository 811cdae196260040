#!/usr/bin/env node
// The command line: demo, run and backtest over the same core as the Lambda function.
import { parseArgs } from 'node:util';
import { ConfigError } from '../functions/config/parse-config.ts';
import { errorMessage } from '../functions/core/error-message.ts';
import { backtestCommand } from './cli/backtest-command.ts';
import { UsageError } from './cli/cli-options.ts';
import { type Command, commandHelp } from './cli/command.ts';
import { demoCommand } from './cli/demo-command.ts';
import { runCommand } from './cli/run-command.ts';

const commands: Command[] = [demoCommand, runCommand, backtestCommand];

const mainHelp = [
  'usage-sentinel: hourly spike alerts for an OpenAI organization, per API key and project.',
  '',
  'Usage: usage-sentinel <command> [options]',
  '',
  'Commands:',
  ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
  '',
  'Run "usage-sentinel <command> --help" for the options of a command.',
  'The admin key is read from OPENAI_ADMIN_KEY only; it is never printed.',
].join('\n');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp);
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(
      `usage-sentinel: unknown command "${name}"; the commands are ${commands.map((c) => c.name).join(', ')}`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(command));
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (error) {
    console.error(`usage-sentinel ${name}: ${(error as Error).message} (see --help)`);
    return 2;
  }
  return command.run(values);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(`usage-sentinel: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`usage-sentinel: ${errorMessage(error)}`);
    process.exitCode = 1;
  },
);
