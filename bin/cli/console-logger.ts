// Log lines for a person at a terminal, on stderr so stdout stays for results. The core never hands
// a secret to its logger; this prints exactly what it is given.
import type { RunLogger } from '../../functions/core/run-scheduled-evaluation.ts';

export interface ConsoleLogger extends RunLogger {
  debug(message: string, attributes?: Record<string, unknown>): void;
}

export function consoleLogger(options: { verbose?: boolean; quiet?: boolean } = {}): ConsoleLogger {
  const line = (level: string, message: string, attributes?: Record<string, unknown>) => {
    const extra = attributes && Object.keys(attributes).length ? ` ${JSON.stringify(attributes)}` : '';
    process.stderr.write(`${level.padEnd(5)} ${message}${extra}\n`);
  };
  return {
    debug: (m, a) => options.verbose && line('debug', m, a),
    info: (m, a) => !options.quiet && line('info', m, a),
    warn: (m, a) => line('warn', m, a),
    error: (m, a) => line('error', m, a),
  };
}
