// Prices a model: the user's entries over the built-in table, longest matching prefix, else the fallback.
import type { Price, SentinelConfig } from '../config/config-schema.ts';
import { DEFAULT_PRICES } from '../config/default-prices.ts';

export type PriceLookup = (model: string | null) => Price;

export function priceLookup(prices: SentinelConfig['prices']): PriceLookup {
  const table: Record<string, Price> = { ...DEFAULT_PRICES, ...prices.models };
  // Longest prefix first, so "gpt-4o-mini-2024" is priced as gpt-4o-mini, not gpt-4o.
  const prefixes = Object.keys(table).sort((a, b) => b.length - a.length);
  const cache = new Map<string | null, Price>();
  return (model) => {
    const hit = cache.get(model);
    if (hit) return hit;
    const prefix = model === null ? undefined : prefixes.find((p) => model.startsWith(p));
    const price = (prefix === undefined ? undefined : table[prefix]) ?? prices.fallback;
    cache.set(model, price);
    return price;
  };
}

/** Estimated USD of one row: uncached input, cached input and output, each at its price per million. */
export function estimateUsd(
  price: Price,
  tokens: { inputTokens: number; cachedInputTokens: number; outputTokens: number },
): number {
  const cached = Math.min(tokens.cachedInputTokens, tokens.inputTokens);
  const uncached = tokens.inputTokens - cached;
  return (uncached * price.input + cached * price.cachedInput + tokens.outputTokens * price.output) / 1e6;
}
