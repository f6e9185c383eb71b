import { FencedError } from '../../src/errors.js';

/**
 * The agent's side of fencing: the highest lease epoch seen per VM. A command carrying a lower epoch
 * comes from an orchestrator that has lost the job to another (the later grant always has the higher
 * epoch), so it is refused instead of acting on the VM behind the new owner's back. Commands without
 * an epoch (the fabric monitor's power-offs, tests) are not fenced. Bounded: the least recently used
 * VMs are forgotten first, and the data service's own fencing still stands behind a forgotten one.
 */
export class EpochGuard {
  private readonly seen = new Map<string, number>();
  /** Commands refused because a newer owner had already been seen. */
  refused = 0;

  constructor(private readonly maxVms: number, private readonly hostName: string,
    private readonly onRefused: (vmUuid: string, epoch: number, highest: number) => void = () => undefined) {}

  check(vmUuid: string, epoch: number | undefined): void {
    if (epoch === undefined) return;
    const highest = this.seen.get(vmUuid);
    if (highest !== undefined && epoch < highest) {
      this.refused++;
      this.onRefused(vmUuid, epoch, highest);
      throw new FencedError(`host ${this.hostName} refused a command for VM ${vmUuid} at epoch ${epoch}: epoch ${highest} was already seen, ` +
        'so another orchestrator owns the VM\'s job now', { details: { vmUuid, epoch, highest } });
    }
    this.seen.delete(vmUuid);
    this.seen.set(vmUuid, highest === undefined ? epoch : Math.max(highest, epoch));
    if (this.seen.size > this.maxVms) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
