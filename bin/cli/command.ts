// The shape every subcommand has, so the entry point can list them and print their help.
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** One line per option: "--flag VALUE   what it does". */
  optionHelp: string[];
  options: OptionSpec;
  /** Resolves to the exit code. */
  run(values: OptionValues): Promise<number>;
}

export function commandHelp(command: Command): string {
  return [
    `usage-sentinel ${command.name}: ${command.summary}`,
    '',
    `Usage: ${command.usage}`,
    '',
    'Options:',
    ...command.optionHelp.map((line) => `  ${line}`),
    '  --help                     show this help',
  ].join('\n');
}

export const str = (values: OptionValues, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
