import { randomBytes } from 'node:crypto';

/**
 * Randomness is injected so that a seed reproduces a run (fault injection, gossip target choice,
 * backoff jitter). Protocol code never calls Math.random.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** A seeded generator (mulberry32): small, fast and good enough for simulation and jitter. */
export function createSeededRandom(seed: number): Random {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

/** A generator seeded from the OS for production use. */
export function createRandom(): Random {
  return createSeededRandom(randomBytes(4).readUInt32LE(0));
}

/** Fisher–Yates shuffle in place, driven by the injected source. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
