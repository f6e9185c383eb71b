import type { InstanceInfo, LauncherReport } from '../launcher/protocol.js';

const LIVE = new Set(['starting', 'running']);

/**
 * Chooses the launcher for a new instance of `component`: among those whose node has every label
 * wanted and free capacity, the one with fewest instances of the component (when spreading), then
 * fewest live children, then by node id (deterministic). Undefined when none fits. Reports include
 * the launches already planned this round (see planned()).
 */
export function choose(reports: readonly LauncherReport[], component: string, labels: readonly string[], spread: boolean): LauncherReport | undefined {
  const fits = reports.filter((r) => labels.every((l) => r.labels.includes(l)) && r.free > 0);
  const mine = (r: LauncherReport): number => r.instances.filter((i) => i.role === component && LIVE.has(i.state)).length;
  const live = (r: LauncherReport): number => r.instances.filter((i) => LIVE.has(i.state)).length;
  fits.sort((a, b) => (spread ? mine(a) - mine(b) : 0) || live(a) - live(b) || (a.node < b.node ? -1 : 1));
  return fits[0];
}

/** Counts a launch planned on `r` in its report, so the next choice this round sees it. */
export function planned(r: LauncherReport, info: InstanceInfo): void {
  r.instances.push(info);
  r.free--;
}

/** The smallest `<component>-<n>` not used by any instance known. */
export function nextInstanceId(component: string, used: ReadonlySet<string>): string {
  for (let n = 1; ; n++) if (!used.has(`${component}-${n}`)) return `${component}-${n}`;
}
