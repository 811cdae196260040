// How far above its baseline an hour is, in the terms the configuration sets its bars in.
import type { DetectionConfig } from '../config/config-schema.ts';

/**
 * Robust distance of an hour above its baseline, in scaled spreads, measured on tokens (not their
 * logarithm): the ratio's excess over 1 in units of the series' typical relative swing. A smooth series
 * (swings of 10%) is far off at 1.5x; a noisy one (swings of 3x) only at 10x or more.
 */
export function distance(ratio: number, sigma: number): number {
  return (ratio - 1) / Math.expm1(sigma);
}

/** The ratio `share` of the way from 1 to minRatio: the bar a share of the thresholds sets. */
export function partWayToMinRatio(cfg: DetectionConfig, share: number): number {
  return 1 + (cfg.minRatio - 1) * share;
}
