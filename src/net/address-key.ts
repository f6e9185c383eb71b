/**
 * The source a connection is counted against when connections are capped per address: an IPv4
 * address as it is, an IPv6 address by its /64 prefix. A /64 is the smallest block a host or a home
 * network is given, so one client can pick any of 2^64 addresses inside it; counting the block keeps
 * a per-address cap meaningful over IPv6. IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** What unknown or unparseable remote addresses share (a socket already gone has none). */
export const UNKNOWN_SOURCE = 'unknown';

/** Expands `::` so that an IPv6 address has its eight groups (without any zone `%eth0`). */
function ipv6Groups(address: string): string[] | undefined {
  const bare = address.split('%')[0]!;
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  // A trailing dotted quad (::ffff:1.2.3.4) stands for two groups.
  const last = tail.length > 0 ? tail : head;
  if (last.length > 0 && isIPv4(last[last.length - 1]!)) {
    const q = last.pop()!.split('.').map(Number);
    last.push(((q[0]! << 8) | q[1]!).toString(16), ((q[2]! << 8) | q[3]!).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
}

export function addressKey(remote: string | undefined): string {
  if (remote === undefined || remote === '') return UNKNOWN_SOURCE;
  if (isIPv4(remote)) return remote;
  if (!isIPv6(remote)) return UNKNOWN_SOURCE;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped !== null) return mapped[1]!;
  const groups = ipv6Groups(remote);
  if (groups === undefined) return UNKNOWN_SOURCE;
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}
