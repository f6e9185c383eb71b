import { InvalidParameterError } from '../../../src/errors.js';

/** IPv4 helpers for address allocation (addresses are kept as integers for range scans). */

export function ipToNum(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new InvalidParameterError(`invalid IPv4 address ${ip}`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new InvalidParameterError(`invalid IPv4 address ${ip}`);
    n = n * 256 + v;
  }
  return n;
}

export function numToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function prefixToNetmask(prefix: number): string {
  return numToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

export function netmaskToPrefix(netmask: string): number {
  const n = ipToNum(netmask);
  const prefix = 32 - Math.log2((~n >>> 0) + 1);
  if (!Number.isInteger(prefix)) throw new InvalidParameterError(`invalid netmask ${netmask}`);
  return prefix;
}

export interface Cidr {
  network: number;
  prefix: number;
  /** First and last usable host addresses (network and broadcast excluded below /31). */
  first: number;
  last: number;
  netmask: string;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const prefix = m === null ? NaN : Number(m[2]);
  if (m === null || prefix > 32) throw new InvalidParameterError(`invalid CIDR ${cidr}: expected a.b.c.d/n`);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ipToNum(m[1]!) / size) * size;
  const small = prefix >= 31;
  return { network, prefix, first: small ? network : network + 1, last: small ? network + size - 1 : network + size - 2,
    netmask: prefixToNetmask(prefix) };
}

/** The CIDR of a gateway and netmask (e.g. 10.1.1.1 + 255.255.255.0 → 10.1.1.0/24). */
export function cidrOf(gateway: string, netmask: string): string {
  const prefix = netmaskToPrefix(netmask);
  const size = 2 ** (32 - prefix);
  return `${numToIp(Math.floor(ipToNum(gateway) / size) * size)}/${prefix}`;
}
