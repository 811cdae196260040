// Seeded randomness for the simulated organization: a sequential PRNG (mulberry32) for drawing the
// organization once, and a stateless hash for per-hour noise, so any hour can be computed on its own
// (random access: the stand-in serves hour 700 without generating hours 0-699).

/** mulberry32: small, fast, good enough for simulation; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit hash of a few integers (murmur3's finalizer over a running mix). */
export function hashInts(a: number, b = 0, c = 0, d = 0): number {
  let h = 0x9e3779b9 ^ (a | 0);
  h = mix(h ^ Math.imul(b | 0, 0x85ebca6b));
  h = mix(h ^ Math.imul(c | 0, 0xc2b2ae35));
  h = mix(h ^ Math.imul(d | 0, 0x27d4eb2f));
  return h >>> 0;
}

function mix(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** A uniform in (0, 1) determined by the integers (never exactly 0, so logs are safe). */
export function uniformAt(a: number, b = 0, c = 0, d = 0): number {
  return (hashInts(a, b, c, d) + 0.5) / 4294967296;
}

/** A standard normal determined by the integers (Box-Muller on two hashed uniforms). */
export function normalAt(a: number, b = 0, c = 0, d = 0): number {
  const u1 = uniformAt(a, b, c, d);
  const u2 = uniformAt(a ^ 0x5bd1e995, b, c, d + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * A Poisson-like count with mean `lambda` from one uniform: exact inversion for small means (where the
 * integer noise of a few requests an hour matters), a normal approximation for large ones.
 */
export function poissonFromUniform(lambda: number, u: number, z: number): number {
  if (lambda <= 0) return 0;
  if (lambda >= 40) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  let k = 0;
  let p = Math.exp(-lambda);
  let cumulative = p;
  while (u > cumulative && k < 200) {
    k += 1;
    p *= lambda / k;
    cumulative += p;
  }
  return k;
}

/** Helpers over a sequential source. */
export class SeededRandom {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  between(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  int(low: number, highInclusive: number): number {
    return Math.floor(this.between(low, highInclusive + 1));
  }

  /** Log-uniform: every order of magnitude between low and high equally likely. */
  logBetween(low: number, high: number): number {
    return Math.exp(this.between(Math.log(low), Math.log(high)));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Picks by weight; `weights` lines up with `items`. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    const total = weights.reduce((sum, w) => sum + w, 0);
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  /** `length` characters of [a-zA-Z0-9]. */
  alnum(length: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}
