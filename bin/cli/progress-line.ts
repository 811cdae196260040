// A progress bar with an estimate of the time left, on stderr, redrawn in place on a terminal and
// printed every tenth otherwise (CI logs).
export interface ProgressLine {
  update(done: number, total: number): void;
  done(): void;
}

export function progressLine(label: string, expectedTotal: number): ProgressLine {
  const startedMs = Date.now();
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let lastDrawMs = 0;
  return {
    update(done, total = expectedTotal) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const tenth = Math.floor(fraction * 10);
      const now = Date.now();
      if (tty ? now - lastDrawMs < 100 && done < total : tenth === lastTenth) return;
      lastTenth = tenth;
      lastDrawMs = now;
      const elapsed = (now - startedMs) / 1000;
      const left = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : Number.NaN;
      const bar = '█'.repeat(Math.round(fraction * 30)).padEnd(30, '░');
      const text = `${label} ${bar} ${done}/${total} hours, ${Number.isFinite(left) ? `${Math.ceil(left)} s left` : 'estimating'}`;
      process.stderr.write(tty ? `\r${text}` : `${text}\n`);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
