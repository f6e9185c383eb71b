import { CloudstackdError } from '../../src/errors.js';

/**
 * What the membership layer says about the node that runs a host's agent. `failed` is a gossip
 * verdict: the node missed its direct probe, several other members could not reach it either
 * (indirect probes), and it did not refute the suspicion in time. `unknown`: no live member has
 * advertised the host's agent since the monitor started.
 */
export type NodeVerdict = 'alive' | 'suspect' | 'failed' | 'left' | 'unknown';

/** The membership's view of the hosts' nodes (in the all-in-one lab, the one node: always alive). */
export interface FabricSignals {
  verdict(hostName: string): NodeVerdict;
  /** Called when a host's node changes verdict; returns the unsubscribe function. */
  onChange(listener: (hostName: string, verdict: NodeVerdict) => void): () => void;
}

/**
 * The result of pinging a host's agent directly: it answered; its agent answered that the hypervisor
 * did not (a failed PingCommand — the agent is there to fence it); or nothing answered at all.
 */
export type ProbeResult = 'answered' | 'hypervisor-down' | 'unreachable';

/** Errors that mean the ask never reached a live agent (as opposed to an agent answering with an error). */
const TRANSPORT_FAILURES: ReadonlySet<string> = new Set(['TIMEOUT', 'PEER_DOWN', 'NO_INSTANCE', 'DEAD_LETTER', 'STOPPED',
  'MAILBOX_FULL', 'BACK_PRESSURE', 'TOO_MANY_PENDING', 'INCOMPATIBLE_PROTOCOL', 'CODEC', 'FRAME_TOO_LARGE', 'AUTH']);

export function classifyProbeError(err: unknown): ProbeResult {
  return err instanceof CloudstackdError && !TRANSPORT_FAILURES.has(err.code) ? 'hypervisor-down' : 'unreachable';
}

export interface InvestigationInput {
  probe: ProbeResult;
  /** Undefined where there is no membership (the lab). */
  verdict: NodeVerdict | undefined;
  /** Another host is Up and heartbeating, and few enough hosts are lost at once (see `witness`). */
  witness: boolean;
}

export interface Finding {
  status: 'Up' | 'Alert' | 'Down';
  /** One line for the event and the log. */
  reason: string;
}

/**
 * The investigation (HighAvailabilityManager.investigate): direct evidence first, then the other
 * members' view. A host is Down only when its agent says its hypervisor is dead, or when neither the
 * management node nor the other members can reach its node (the gossip verdict) — and only while the
 * management node itself still sees enough of the fabric (`witness`): losing most hosts at once is
 * more likely this node's own isolation, so they are Alert and the side without the hosts takes no
 * HA action. A node the others still reach is cut off from the management node only: Alert.
 */
export function investigate(i: InvestigationInput): Finding {
  if (i.probe === 'answered') return { status: 'Alert', reason: 'the agent answers a direct ping but its heartbeats do not arrive' };
  if (i.probe === 'hypervisor-down') {
    return i.witness ? { status: 'Down', reason: 'the agent reports that the hypervisor does not answer its ping' }
      : { status: 'Alert', reason: 'the hypervisor does not answer, but too many hosts are lost at once to act on it' };
  }
  if (i.verdict === undefined) return { status: 'Alert', reason: 'the agent does not answer and there is no membership to ask' };
  if (i.verdict === 'alive' || i.verdict === 'suspect') {
    return { status: 'Alert', reason: `the agent does not answer the management node but other members still reach its node (${i.verdict})` };
  }
  if (!i.witness) return { status: 'Alert', reason: `its node is ${i.verdict}, but too many hosts are lost at once: this management node may be the isolated one` };
  return { status: 'Down', reason: i.verdict === 'left' ? 'its node left the cluster and its agent does not answer'
    : i.verdict === 'unknown' ? 'no member has seen its node since the monitor started and its agent does not answer'
      : 'its node was declared failed by gossip (direct and indirect probes) and its agent does not answer' };
}

/** A host as the witness rule counts it. */
export interface HostView {
  id: string;
  state: string;
  /** Silent beyond the heartbeat timeout, or its node suspect, failed or left. */
  lost: boolean;
}

/**
 * The witness rule: `subject` may be declared Down only while another host is Up and not lost, and
 * no more than `maxLostFraction` of the hosts that are not Down (or removed, or in maintenance) are
 * lost at once, `subject` included.
 */
export function witness(subject: string, hosts: readonly HostView[], maxLostFraction: number): boolean {
  const counted = hosts.filter((h) => h.state !== 'Down' && h.state !== 'Removed');
  const lost = counted.filter((h) => h.lost || h.id === subject).length;
  const other = counted.some((h) => h.id !== subject && h.state === 'Up' && !h.lost);
  return other && lost <= maxLostFraction * Math.max(1, counted.length);
}
