/** The kvm driver's options, every limit with its default and the reason for it. */
export interface KvmDriverConfig {
  /** libvirt connection URI. Default qemu:///system, the local libvirtd as CloudStack's KVM agent uses it. */
  uri: string;
  /**
   * Guest acceleration: `kvm` (hardware) or `tcg` (software emulation, domain type qemu). Default tcg: on
   * machines whose /dev/kvm is paravirtual (no vmx/svm) a kvm guest hangs silently while libvirt reports
   * it running; tcg always boots. Use kvm on a real hypervisor host.
   */
  acceleration: 'kvm' | 'tcg';
  /** The host's primary storage directory (templates, root and data disks). */
  storageDir: string;
  /** The host's data directory: console logs (console/<instance>.log) and DHCP state. */
  dataDir: string;
  /** The interface that carries the VXLAN of guest networks between hosts. None: only untagged networks work. */
  underlay?: string;
  /** Run ip and dnsmasq inside this network namespace (a test "host"); libvirtd is reached by `uri`. */
  netns?: string;
  /** Longest an ACPI shutdown may take before the domain is destroyed, ms. 30 s: a guest that ignores ACPI is powered off. */
  stopTimeoutMs: number;
  /** Longest one virsh / qemu-img / ip call may take, ms. 60 s; a wedged libvirtd fails the operation instead of hanging it. */
  commandTimeoutMs: number;
  /**
   * Longest one disk copy may take (a volume snapshot, a volume made from a snapshot), ms. 1 hour: a
   * few hundred GiB on a local disk. The orchestrator's step deadline is shorter; a step that outlives it
   * is resent with the same key and joins the copy still running here.
   */
  copyTimeoutMs: number;
  /** Power states are also polled this often, ms, in case an event of `virsh event --loop` was missed. 5 s. */
  pollIntervalMs: number;
  /** How often a stop looks at the domain's state while it waits for the guest's ACPI shutdown, ms. 100. */
  stopPollMs: number;
  /** Most guests the host runs; one more start is refused (the orchestrator picks another host). 50. */
  maxGuests: number;
  /** TCG translation cache per guest, MiB. 32: cuts QEMU's RSS by about 100 MiB against the default. */
  tbCacheMiB: number;
  /** Lines a console tail shows by default. 50. */
  consoleTailLines: number;
}

export const KVM_DEFAULTS: Readonly<Omit<KvmDriverConfig, 'storageDir' | 'dataDir'>> = Object.freeze({
  uri: 'qemu:///system',
  acceleration: 'tcg',
  stopTimeoutMs: 30_000,
  commandTimeoutMs: 60_000,
  copyTimeoutMs: 3_600_000,
  pollIntervalMs: 5_000,
  stopPollMs: 100,
  maxGuests: 50,
  tbCacheMiB: 32,
  consoleTailLines: 50,
});
