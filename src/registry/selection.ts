import type { ServiceInstance } from './registry.js';

/**
 * Instance selection policies. Both prefer alive instances over suspected ones (a suspect may well
 * be up, so it is used only when nothing alive serves the service).
 * - round-robin: rotates over the candidates, one counter per service;
 * - least-in-flight: the instance with the fewest requests this node has in flight to it; ties go to
 *   the lower advertised `load.inFlight`, then round-robin, so equal instances still share the load.
 */
export type BalancePolicy = 'round-robin' | 'least-in-flight';

export interface Balancer {
  pick(service: string, candidates: readonly ServiceInstance[], policy: BalancePolicy): ServiceInstance | undefined;
}

export function createBalancer(inFlight: (node: string) => number, maxServices: number): Balancer {
  const counters = new Map<string, number>();
  const next = (service: string): number => {
    const n = counters.get(service) ?? 0;
    if (!counters.has(service) && counters.size >= maxServices) counters.clear();
    counters.set(service, n + 1);
    return n;
  };
  return {
    pick(service, candidates, policy) {
      const alive = candidates.filter((c) => c.status === 'alive');
      const pool = alive.length > 0 ? alive : candidates;
      if (pool.length === 0) return undefined;
      const turn = next(service);
      if (policy === 'round-robin') return pool[turn % pool.length];
      let best: ServiceInstance[] = [];
      let bestKey: [number, number] = [Infinity, Infinity];
      for (const c of pool) {
        const key: [number, number] = [inFlight(c.node), c.load.inFlight ?? 0];
        const cmp = key[0] - bestKey[0] || key[1] - bestKey[1];
        if (cmp < 0) { best = [c]; bestKey = key; } else if (cmp === 0) best.push(c);
      }
      return best[turn % best.length];
    },
  };
}
