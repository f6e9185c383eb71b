/**
 * The libvirt domain XML of a VM, as CloudStack's KVM agent builds it (LibvirtVMDef): virtio disks and
 * NICs on Linux bridges, a serial console logged to a file, ACPI so that a shutdown request reaches the
 * guest. The VM's spec rides along in <metadata>, so a restarted agent can re-adopt the domain.
 */
import type { VmSpec } from '../protocol.js';

export const METADATA_NS = 'urn:cloudstackd:vm:1';

export interface DomainPlan {
  spec: VmSpec;
  /** `qemu` (TCG, software emulation) or `kvm` (hardware acceleration). */
  type: 'qemu' | 'kvm';
  disks: { file: string; dev: string }[];
  nics: { bridge: string; mac: string }[];
  consoleLog: string;
  /** TCG translation cache, MiB (lowers QEMU's RSS under TCG; ignored by kvm). */
  tbCacheMiB: number;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** `vda`, `vdb`, ... for device ids 0, 1, ... (CloudStack numbers the root disk 0). */
export function diskDev(deviceId: number): string {
  let n = deviceId;
  let s = '';
  do { s = String.fromCharCode(97 + (n % 26)) + s; n = Math.floor(n / 26) - 1; } while (n >= 0);
  return `vd${s}`;
}

export function diskXml(file: string, dev: string): string {
  return `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${xmlEscape(file)}'/><target dev='${dev}' bus='virtio'/></disk>`;
}

export function domainXml(p: DomainPlan): string {
  const meta = Buffer.from(JSON.stringify(p.spec)).toString('base64');
  const features = p.type === 'qemu' ? `<acpi/><tcg><tb-cache unit='MiB'>${p.tbCacheMiB}</tb-cache></tcg>` : '<acpi/>';
  return [
    `<domain type='${p.type}'>`,
    `  <name>${xmlEscape(p.spec.name)}</name>`,
    `  <title>${xmlEscape(p.spec.displayName ?? p.spec.name)}</title>`,
    `  <metadata><csd:vm xmlns:csd='${METADATA_NS}' uuid='${xmlEscape(p.spec.uuid)}'>${meta}</csd:vm></metadata>`,
    `  <memory unit='MiB'>${p.spec.memoryMiB}</memory>`,
    `  <vcpu>${p.spec.cpuCores}</vcpu>`,
    `  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>`,
    `  <features>${features}</features>`,
    p.type === 'kvm' ? `  <cpu mode='host-passthrough'/>` : '',
    `  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>`,
    `  <devices>`,
    ...p.disks.map((d) => `    ${diskXml(d.file, d.dev)}`),
    ...p.nics.map((n) => `    <interface type='bridge'><source bridge='${xmlEscape(n.bridge)}'/><mac address='${n.mac.toLowerCase()}'/><model type='virtio'/></interface>`),
    `    <serial type='pty'><log file='${xmlEscape(p.consoleLog)}' append='on'/><target port='0'/></serial>`,
    `    <console type='pty'><target type='serial' port='0'/></console>`,
    `  </devices>`,
    `</domain>`,
  ].filter((l) => l !== '').join('\n');
}

/** The VM spec a domain's XML carries (undefined for domains this agent did not define). */
export function specFromXml(xml: string): VmSpec | undefined {
  const m = /<csd:vm [^>]*>([A-Za-z0-9+/=]+)<\/csd:vm>/.exec(xml) ?? /<vm xmlns=['"]urn:cloudstackd:vm:1['"][^>]*>([A-Za-z0-9+/=]+)<\/vm>/.exec(xml);
  if (m === null) return undefined;
  try {
    return JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as VmSpec;
  } catch {
    return undefined;
  }
}
