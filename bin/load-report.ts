/**
 * Every node advertises its load in its gossip metadata, the signals the service framework scales on:
 * `cpu` (percent of one core over the last interval), `mailbox` (messages waiting in all mailboxes),
 * `asks` (asks in flight from this node). Figures are rounded, and sent only when they change, since
 * every update is gossiped to the whole cluster.
 */
import type { ActorSystem } from '../src/actor-system.js';
import type { ServiceDirectory, TimingProfile } from '../src/component.js';

/** How often a node reports its load, ms: 2 s (test profile 500 ms), a few updates a second across a cluster of dozens. */
export function loadReportMs(profile: TimingProfile): number {
  return profile === 'test' ? 500 : 2_000;
}

export function startLoadReport(system: ActorSystem, services: ServiceDirectory, everyMs: number): () => void {
  let cpu = process.cpuUsage();
  let at = process.hrtime.bigint();
  let last = '';
  const report = (): void => {
    const nowCpu = process.cpuUsage();
    const now = process.hrtime.bigint();
    const wallUs = Number(now - at) / 1_000;
    const usedUs = nowCpu.user - cpu.user + nowCpu.system - cpu.system;
    cpu = nowCpu;
    at = now;
    // CPU in steps of 5 %: finer steps would gossip an update at every report for noise.
    const figures = { cpu: Math.round(wallUs > 0 ? (usedUs / wallUs) * 20 : 0) * 5, mailbox: system.mailboxes(0).total, asks: system.stats().pendingAsks };
    const key = JSON.stringify(figures);
    if (key === last) return;
    last = key;
    services.setLoad(figures);
  };
  const timer = setInterval(report, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
