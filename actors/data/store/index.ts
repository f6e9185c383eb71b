import { openDatabase, type Db, type OpenDatabaseOptions } from './db.js';
import { DEFAULT_STATEMENT_CACHE_SIZE, StoreContext, type StoreContextOptions } from './context.js';
import type { SqlConnection, TxOptions } from './sql/connection.js';
import { SqliteConnection } from './sql/sqlite-connection.js';
import { PostgresConnection, type PostgresOptions } from './sql/postgres-connection.js';
import { runMigrations } from './migrations.js';
import { bootstrap, type SystemOwner } from './bootstrap.js';
import { AddressAllocator, Allocator } from './allocation.js';
import { AccountRepository } from './repos/accounts.js';
import { CapacityRepository } from './repos/capacity.js';
import { ConfigRepository } from './repos/config.js';
import { DomainRepository } from './repos/domains.js';
import { EventRepository } from './repos/events.js';
import { HostRepository } from './repos/hosts.js';
import { IpAddressRepository } from './repos/ip-addresses.js';
import { JobRepository } from './repos/jobs.js';
import { LeaseRepository } from './repos/leases.js';
import { ComponentServiceRepository } from './repos/component-services.js';
import { SessionRepository } from './repos/sessions.js';
import { MockRepository } from './repos/mocks.js';
import { NetworkRepository } from './repos/networks.js';
import { NicRepository } from './repos/nics.js';
import { OrchestrationRepository } from './repos/orchestration.js';
import { OfferingRepository } from './repos/offerings.js';
import { SnapshotRepository } from './repos/snapshots.js';
import { SshKeyRepository } from './repos/ssh-keys.js';
import { StorageRepository } from './repos/storage.js';
import { TagRepository } from './repos/tags.js';
import { TemplateRepository } from './repos/templates.js';
import { UserRepository } from './repos/users.js';
import { VmCommands } from './repos/vm-commands.js';
import { VmRepository } from './repos/vms.js';
import { VolumeRepository } from './repos/volumes.js';
import { ZoneRepository } from './repos/zones.js';
import { AffinityGroupRepository } from './repos/affinity-groups.js';
import { InstanceGroupRepository } from './repos/instance-groups.js';
import { NetworkRuleRepository } from './repos/network-rules.js';
import { RuleSetRepository } from './repos/rule-sets.js';
import { SnapshotPolicyRepository } from './repos/snapshot-policies.js';
import { UserDataRepository } from './repos/user-data.js';
import { VmLinks } from './repos/vm-links.js';
import { TemplateDownloadRepository } from './repos/template-downloads.js';
import { TemplateAdminRepository } from './repos/template-admin.js';
import { VmSnapshotRepository } from './repos/vm-snapshots.js';
import { ProjectRepository } from './repos/projects.js';
import { EntityRepository } from './repos/entities.js';
import { AlertRepository } from './repos/alerts.js';
import { ResourceLimitRepository } from './repos/resource-limits.js';

export interface DataStoreOptions extends OpenDatabaseOptions, StoreContextOptions {
  /**
   * A PostgreSQL database instead of SQLite (`dataDir`/`memory` are then ignored). Several data
   * instances may share it.
   */
  postgres?: PostgresOptions;
}

/**
 * The data service's storage layer: one connection, every repository, and the command functions.
 * Synchronous (better-sqlite3, or PostgreSQL through sql/postgres-connection.ts): each command is one
 * transaction and returns the updated objects, with CloudStack's response field names and no internal
 * keys. The data actor wraps it in messages.
 */
export class DataStore {
  readonly ctx: StoreContext;
  readonly system: SystemOwner;
  readonly config: ConfigRepository;
  readonly events: EventRepository;
  readonly tags: TagRepository;
  readonly domains: DomainRepository;
  readonly users: UserRepository;
  readonly accounts: AccountRepository;
  readonly zones: ZoneRepository;
  readonly hosts: HostRepository;
  readonly storage: StorageRepository;
  readonly offerings: OfferingRepository;
  readonly templates: TemplateRepository;
  readonly allocation: Allocator;
  readonly nics: NicRepository;
  readonly ipAddresses: IpAddressRepository;
  readonly addresses: AddressAllocator;
  readonly networks: NetworkRepository;
  readonly volumes: VolumeRepository;
  readonly snapshots: SnapshotRepository;
  readonly vms: VmRepository;
  readonly vmOps: VmCommands;
  readonly sshKeys: SshKeyRepository;
  readonly jobs: JobRepository;
  readonly leases: LeaseRepository;
  readonly componentServices: ComponentServiceRepository;
  readonly sessions: SessionRepository;
  readonly mocks: MockRepository;
  readonly capacity: CapacityRepository;
  readonly orchestration: OrchestrationRepository;
  readonly userData: UserDataRepository;
  readonly instanceGroups: InstanceGroupRepository;
  readonly affinityGroups: AffinityGroupRepository;
  readonly snapshotPolicies: SnapshotPolicyRepository;
  readonly networkRules: NetworkRuleRepository;
  readonly ruleSets: RuleSetRepository;
  readonly templateDownloads: TemplateDownloadRepository;
  readonly templateAdmin: TemplateAdminRepository;
  readonly vmSnapshots: VmSnapshotRepository;
  readonly projects: ProjectRepository;
  readonly entities: EntityRepository;
  readonly alerts: AlertRepository;
  readonly resourceLimits: ResourceLimitRepository;

  /**
   * Opens the database (PostgreSQL when `postgres` is given, else SQLite: a file under `dataDir`, or in
   * memory), migrates it and bootstraps it.
   */
  static open(options: DataStoreOptions = {}): DataStore {
    const conn: SqlConnection = options.postgres !== undefined ? new PostgresConnection(options.postgres) :
      new SqliteConnection(openDatabase(options), options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE);
    try {
      runMigrations(conn);
      if (conn instanceof PostgresConnection) conn.refreshTables();
      return new DataStore(conn, options);
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** Wraps an already migrated connection (e.g. a second connection to the same file). */
  constructor(readonly sql: SqlConnection, options: StoreContextOptions = {}) {
    const ctx = new StoreContext(sql, options);
    this.ctx = ctx;
    this.config = new ConfigRepository(ctx);
    this.system = bootstrap(ctx, this.config);
    const systemOwner = (): SystemOwner => this.system;
    this.events = new EventRepository(ctx);
    this.tags = new TagRepository(ctx);
    this.domains = new DomainRepository(ctx);
    this.users = new UserRepository(ctx);
    this.accounts = new AccountRepository(ctx, this.users);
    this.zones = new ZoneRepository(ctx);
    this.alerts = new AlertRepository(ctx);
    this.resourceLimits = new ResourceLimitRepository(ctx);
    this.hosts = new HostRepository(ctx, this.events, systemOwner, this.alerts);
    this.storage = new StorageRepository(ctx);
    this.offerings = new OfferingRepository(ctx);
    this.templates = new TemplateRepository(ctx, this.tags);
    this.allocation = new Allocator(ctx, this.config);
    this.nics = new NicRepository(ctx);
    this.ipAddresses = new IpAddressRepository(ctx, this.tags);
    this.addresses = new AddressAllocator(ctx, this.events, this.ipAddresses, this.nics);
    this.networks = new NetworkRepository(ctx, this.events, this.tags);
    this.volumes = new VolumeRepository(ctx, this.events, this.allocation, this.tags);
    this.snapshots = new SnapshotRepository(ctx, this.events, this.tags);
    this.affinityGroups = new AffinityGroupRepository(ctx);
    this.vms = new VmRepository(ctx, this.nics, this.tags, this.affinityGroups);
    this.sshKeys = new SshKeyRepository(ctx);
    this.leases = new LeaseRepository(ctx);
    this.componentServices = new ComponentServiceRepository(ctx);
    this.sessions = new SessionRepository(ctx);
    this.jobs = new JobRepository(ctx, this.leases);
    this.mocks = new MockRepository(ctx);
    this.capacity = new CapacityRepository(ctx, this.config);
    this.orchestration = new OrchestrationRepository(ctx, this.config);
    this.userData = new UserDataRepository(ctx);
    this.instanceGroups = new InstanceGroupRepository(ctx);
    this.snapshotPolicies = new SnapshotPolicyRepository(ctx, this.tags);
    this.networkRules = new NetworkRuleRepository(ctx, this.tags);
    this.ruleSets = new RuleSetRepository(ctx, this.networkRules);
    this.templateDownloads = new TemplateDownloadRepository(ctx);
    this.templateAdmin = new TemplateAdminRepository(ctx, this.templates, this.tags);
    this.vmSnapshots = new VmSnapshotRepository(ctx, this.tags);
    this.projects = new ProjectRepository(ctx, this.tags);
    this.entities = new EntityRepository(ctx);
    this.vmOps = new VmCommands(ctx, this.vms, this.nics, this.volumes, this.events, this.allocation, this.networks,
      new VmLinks(ctx, this.instanceGroups, this.userData, this.affinityGroups, this.networkRules, this.vmSnapshots));
  }

  /** Runs several commands as one transaction (nested commands become savepoints). */
  transaction<T>(fn: () => T, options?: TxOptions): T {
    return this.sql.tx(fn, options);
  }

  /**
   * The better-sqlite3 handle, for tests and benchmarks that read the file directly. A PostgreSQL store
   * has none.
   */
  get db(): Db {
    if (!(this.sql instanceof SqliteConnection)) throw new Error(`the store is on ${this.sql.describe}, not SQLite: it has no SQLite handle`);
    return this.sql.db;
  }

  /** 'ok' or the problems the database's own check found. */
  integrityCheck(): string {
    return this.sql.integrityCheck();
  }

  close(): void {
    this.sql.close();
  }
}

export { SYSTEM, type Caller, type CallerRole, type Scope } from './scoping.js';
export type { ListParams, CommonListParams } from './list-query.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type ListResult } from './pagination.js';
export { latestSchemaVersion, runMigrations, schemaVersion } from './migrations.js';
export { openDatabase, closeDatabase, databasePath, type Db, type OpenDatabaseOptions } from './db.js';
export * from './state-machines.js';
export type { Account, CreateAccountInput, Role, RoleType } from './repos/accounts.js';
export type { ApiKeyIdentity, CreateUserInput, User, UserKeys } from './repos/users.js';
export type { CreateDomainInput, Domain } from './repos/domains.js';
export type { Cluster, CreateClusterInput, CreatePodInput, CreateZoneInput, Pod, UpdateZoneInput, Zone } from './repos/zones.js';
export type { CreateHostInput, Host, UpdateHostInput } from './repos/hosts.js';
export type { CreateImageStoreInput, CreateStoragePoolInput, ImageStore, StoragePool } from './repos/storage.js';
export type {
  CreateDiskOfferingInput, CreateNetworkOfferingInput, CreateServiceOfferingInput, DiskOffering, NetworkOffering,
  NetworkService, ServiceOffering,
} from './repos/offerings.js';
export type { OsType, RegisterTemplateInput, Template, TemplateFilter, TemplateZoneStatus } from './repos/templates.js';
export type { VirtualMachine } from './repos/vms.js';
export type { CreateVmInput, ScaleVmInput, TransitionEvent, UpdateVmInput, VmTransitionOptions } from './repos/vm-commands.js';
export type { Nic } from './repos/nics.js';
export type { CreateVolumeInput, Volume, VolumeType } from './repos/volumes.js';
export type { Snapshot } from './repos/snapshots.js';
export type { CreateNetworkInput, GuestType, Network, UpdateNetworkInput } from './repos/networks.js';
export type { CreateIpRangeInput, PublicIpAddress, VlanIpRange } from './repos/ip-addresses.js';
export type { SshKeyPair } from './repos/ssh-keys.js';
export type { AsyncJob, CompleteJobInput, CreateJobInput, JobRecord } from './repos/jobs.js';
export type { CreateEventInput, Event, EventLevel } from './repos/events.js';
export type { CreateMockInput, FiredMock, SimulatorMock } from './repos/mocks.js';
export type { ResourceTag, TagInput } from './repos/tags.js';
export type { ConfigValue } from './repos/config.js';
export type { UserData, VmUserData } from './repos/user-data.js';
export type { InstanceGroup } from './repos/instance-groups.js';
export type { AffinityGroup, AffinityConstraints } from './repos/affinity-groups.js';
export type { SnapshotPolicy } from './repos/snapshot-policies.js';
export type { NetworkRuleView, RuleInput, TrafficType } from './repos/network-rules.js';
export type { ElementRule, RuleSet, RuleTarget } from './repos/rule-sets.js';
export type { DownloadTask } from './repos/template-downloads.js';
export { CAPACITY_TYPE, type Capacity, type CapacityQuery } from './repos/capacity.js';
export type { HostCandidate, HostQuery, HostReservation, PoolCandidate } from './allocation.js';
export type { AllocatePublicIpInput } from './address-allocation.js';
export type { HostPick, HostPickQuery, TemplateOnPool, VmStartDetails, VmStartSpec, VmVolume } from './repos/orchestration.js';
