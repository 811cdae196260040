// Text helpers of the backtest report: escaping (ids and names come from the API: untrusted) and numbers.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe in element text and in quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** 1234 -> "1.2k", 3_400_000 -> "3.4M". */
export function formatTokens(n: number): string {
  const abs = Math.abs(n);
  const fixed = (x: number, unit: string) =>
    `${x >= 100 ? x.toFixed(0) : x.toFixed(1).replace(/\.0$/, '')}${unit}`;
  if (abs >= 1e9) return fixed(n / 1e9, 'B');
  if (abs >= 1e6) return fixed(n / 1e6, 'M');
  if (abs >= 1e3) return fixed(n / 1e3, 'k');
  return String(Math.round(n));
}

export const formatUsd = (usd: number): string => `$${usd >= 100 ? usd.toFixed(0) : usd.toFixed(2)}`;

/** "2025-10-21 14:00" (UTC). */
export const hourUtc = (unixSeconds: number): string =>
  new Date(unixSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ');

/** "2025-10-21". */
export const dayUtc = (unixSeconds: number): string =>
  new Date(unixSeconds * 1000).toISOString().slice(0, 10);
