/**
 * Watches the hosts' reports for the one thing HA must never cause: a VM running on two hosts at
 * once. Reports are snapshots taken at different moments, so "listed by two hosts" is not enough
 * (a migrated VM is listed by the source before it leaves and by the target after it arrives). A VM
 * is flagged only when host X lists it at time t while host Y listed it in two consecutive reports
 * around t — Y had it continuously over an interval that contains a moment X had it too.
 * Times are the monitor's receive times; a report delayed in transit could stretch an interval, so a
 * flag is evidence to investigate, written as an ERROR event, not a proof.
 */
interface Report {
  at: number;
  vms: ReadonlySet<string>;
}

interface HostReports {
  prev: Report | undefined;
  last: Report | undefined;
}

export class DuplicateDetector {
  private readonly hosts = new Map<string, HostReports>();
  /** VM → hosts whose last report lists it. */
  private readonly index = new Map<string, Set<string>>();

  /** Records a report from `host`; returns the VMs it shows running on two hosts at once, with the other host. */
  observe(host: string, vms: ReadonlySet<string>, at: number): { vm: string; other: string }[] {
    const h = this.hosts.get(host) ?? { prev: undefined, last: undefined };
    if (h.last !== undefined) for (const vm of h.last.vms) if (!vms.has(vm)) this.unindex(vm, host);
    h.prev = h.last;
    h.last = { at, vms };
    this.hosts.set(host, h);
    const found: { vm: string; other: string }[] = [];
    for (const vm of vms) {
      let set = this.index.get(vm);
      if (set === undefined) { set = new Set(); this.index.set(vm, set); }
      for (const other of set) {
        if (other !== host && this.overlaps(host, other, vm)) found.push({ vm, other });
      }
      set.add(host);
    }
    return found;
  }

  /** Forgets a host's reports (it is Down, fenced or removed: what it last said is stale). */
  forget(host: string): void {
    const h = this.hosts.get(host);
    if (h?.last !== undefined) for (const vm of h.last.vms) this.unindex(vm, host);
    this.hosts.delete(host);
  }

  /** True when one host held `vm` over two consecutive reports spanning a report of the other listing it. */
  private overlaps(a: string, b: string, vm: string): boolean {
    return this.spans(a, b, vm) || this.spans(b, a, vm);
  }

  private spans(holder: string, other: string, vm: string): boolean {
    const h = this.hosts.get(holder);
    const o = this.hosts.get(other)?.last;
    if (h?.prev === undefined || h.last === undefined || o === undefined) return false;
    return h.prev.vms.has(vm) && h.last.vms.has(vm) && o.vms.has(vm) && h.prev.at <= o.at && o.at <= h.last.at;
  }

  private unindex(vm: string, host: string): void {
    const set = this.index.get(vm);
    if (set === undefined) return;
    set.delete(host);
    if (set.size === 0) this.index.delete(vm);
  }
}
