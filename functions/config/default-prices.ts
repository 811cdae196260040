// Built-in list prices, USD per million tokens (standard tier). A model matches the longest key that
// is a prefix of its name, so dated snapshots (gpt-4o-2024-08-06) price as their family.
// Users add or correct entries in `prices.models`; the daily Costs check logs when these drift.
import type { Price } from './config-schema.ts';

export const DEFAULT_PRICES: Record<string, Price> = {
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  'gpt-4-turbo': { input: 10, cachedInput: 10, output: 30 },
  'gpt-3.5-turbo': { input: 0.5, cachedInput: 0.5, output: 1.5 },
  o1: { input: 15, cachedInput: 7.5, output: 60 },
  'o1-mini': { input: 1.1, cachedInput: 0.55, output: 4.4 },
  o3: { input: 2, cachedInput: 0.5, output: 8 },
  'o3-mini': { input: 1.1, cachedInput: 0.55, output: 4.4 },
  'o4-mini': { input: 1.1, cachedInput: 0.275, output: 4.4 },
};

/** For a model in no table: priced like a current flagship, so an unknown model's spike still counts. */
export const FALLBACK_PRICE: Price = { input: 2.5, cachedInput: 1.25, output: 10 };
