import { InvalidParameterError } from '../../../../src/errors.js';
import type { RulePurpose } from '../rule-conflicts.js';
import type { TrafficType } from './network-rule-views.js';

/** What each kind of rule accepts as `protocol` (the virtual router element's capabilities). */
const PROTOCOLS: Readonly<Record<string, readonly string[]>> = {
  'Firewall/Ingress': ['tcp', 'udp', 'icmp'],
  'Firewall/Egress': ['tcp', 'udp', 'icmp', 'all'],
  'PortForwarding/Ingress': ['tcp', 'udp'],
  'LoadBalancing/Ingress': ['tcp', 'udp'],
};

export function checkProtocol(purpose: RulePurpose, traffic: TrafficType, protocol: string): string {
  const p = protocol.toLowerCase();
  const allowed = PROTOCOLS[`${purpose}/${traffic}`] ?? [];
  if (!allowed.includes(p)) {
    throw new InvalidParameterError(`Protocol ${protocol} is not supported for ${traffic.toLowerCase()} ${purpose} rules; use one of ${allowed.join(', ')}`);
  }
  return p;
}

interface PortInput {
  purpose: RulePurpose;
  startport?: number;
  endport?: number;
  privateport?: number;
  privateendport?: number;
  icmptype?: number;
  icmpcode?: number;
}

export interface Ports {
  start: number | null;
  end: number | null;
  privateStart: number | null;
  privateEnd: number | null;
  icmpType: number | null;
  icmpCode: number | null;
}

function port(v: number | undefined, what: string): number | null {
  if (v === undefined) return null;
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new InvalidParameterError(`${what} is an invalid value: ${v}`);
  return v;
}

/** CloudStack's port checks (validateFirewallRule, createPortForwardingRule): valid ports, start <= end, equal ranges. */
export function checkPorts(input: PortInput, protocol: string): Ports {
  const out: Ports = { start: port(input.startport, 'publicPort'), end: port(input.endport, 'Public port range'),
    privateStart: port(input.privateport, 'privatePort'), privateEnd: port(input.privateendport, 'Private port range'),
    icmpType: null, icmpCode: null };
  if (protocol === 'icmp') {
    if (out.start !== null || out.end !== null) throw new InvalidParameterError('Can specify start/end port only when protocol is TCP/UDP');
    out.icmpType = icmpField(input.icmptype, 'icmptype');
    out.icmpCode = icmpField(input.icmpcode, 'icmpcode');
    return out;
  }
  if (input.icmptype !== undefined || input.icmpcode !== undefined) {
    throw new InvalidParameterError('Can specify icmpCode and icmpType for ICMP protocol only');
  }
  if (protocol === 'all') {
    if (out.start !== null || out.end !== null) throw new InvalidParameterError('Can specify start/end port only when protocol is TCP/UDP');
    return out;
  }
  if (out.start === null) throw new InvalidParameterError(`a ${protocol} rule needs its (public) start port`);
  if (out.end === null) out.end = out.start;
  if (out.start > out.end) throw new InvalidParameterError("Start port can't be bigger than end port");
  if (input.purpose === 'PortForwarding' || input.purpose === 'LoadBalancing') {
    if (out.privateStart === null) throw new InvalidParameterError('the rule needs its private port');
    if (input.purpose === 'LoadBalancing') {
      out.end = out.start;
      return out;
    }
    if (out.privateEnd === null) out.privateEnd = out.privateStart + (out.end - out.start);
    if (out.privateStart > out.privateEnd) throw new InvalidParameterError("Start private port can't be bigger than end private port");
    if (out.end - out.start !== out.privateEnd - out.privateStart) {
      throw new InvalidParameterError('Private port range and public port range must have the same size');
    }
  }
  return out;
}

function icmpField(v: number | undefined, what: string): number {
  if (v === undefined) return -1;
  if (!Number.isInteger(v) || v < -1 || v > 255) throw new InvalidParameterError(`${what} must be -1 (any) or 0..255, got ${v}`);
  return v;
}

/** CIDRs as a.b.c.d/n. */
export function checkCidrs(cidrs: readonly string[], what: string): void {
  for (const c of cidrs) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(c.trim());
    if (m === null || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
      throw new InvalidParameterError(`Invalid ${what} entry ${c}: expected a CIDR such as 10.0.0.0/8`);
    }
  }
}
