/**
 * The one table of command definitions. The same definition parses and validates a request (its
 * params), authorises it (access), runs it (handler) and describes it in listApis (name, description,
 * isasync, params, response) — so what listApis says is what the server does.
 */
import { ConfigError, InternalError } from '../../src/errors.js';
import type {
  Access, Caller, CommandResult, HandlerContext, ListItemType, ParamDef, ParamType, ResponseFieldDef, Role,
} from './types.js';

export interface CommandSpecBase {
  /** The API name as clients send it (case-sensitive), e.g. `listZones`. */
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamDef[];
  /** Default `<name lower-cased>response`. */
  readonly responseName?: string;
  /** The object name of list/object results (`zone` for listZones), also their default. */
  readonly objectName?: string;
  /** Adds `keyword`, `page`, `pagesize` with CloudStack's paging rules; the handler gets ctx.page. */
  readonly paged?: boolean;
  readonly since?: string;
  readonly related?: readonly string[];
  /** Response fields, for listApis. */
  readonly response?: readonly ResponseFieldDef[];
  /**
   * False for a command served (the UI calls it whatever listApis says) but left out of listApis, because
   * it belongs to a feature cloudstackd does not have: the UI then leaves that feature's pages out.
   * Default true.
   */
  readonly listed?: boolean;
  /**
   * Whether the service the command needs is running now; listApis leaves the command out while it is
   * not (a command that can only fail is not offered). Default: always.
   */
  readonly available?: () => boolean;
}

export type CallerFor<A extends Access> = A extends 'anonymous' ? Caller | undefined : Caller;

export interface CommandSpec<A extends Access = Access> extends CommandSpecBase {
  /** True for CloudStack's async commands: the handler must then return `{kind:'async'}`. */
  readonly isAsync: boolean;
  readonly access: A;
  readonly handler: (ctx: HandlerContext<CallerFor<A>>) => Promise<CommandResult>;
}

interface DefinitionBase {
  readonly name: string;
  readonly description: string;
  readonly isAsync: boolean;
  /** Every accepted parameter, paging ones included. */
  readonly params: readonly ParamDef[];
  readonly responseName: string;
  readonly objectName: string | undefined;
  readonly access: Access;
  readonly paged: boolean;
  readonly since: string | undefined;
  readonly related: readonly string[];
  readonly response: readonly ResponseFieldDef[];
  readonly listed: boolean;
  readonly available: () => boolean;
}

/** A command served by its handler. */
export interface HandledCommand extends DefinitionBase {
  readonly session?: undefined;
  invoke(ctx: HandlerContext<Caller | undefined>): Promise<CommandResult>;
}

/** login/logout: served by the HTTP session layer itself, listed here for listApis and parameter parsing. */
export interface SessionCommand extends DefinitionBase {
  readonly session: 'login' | 'logout';
}

export type CommandDefinition = HandledCommand | SessionCommand;

/** BaseListCmd's parameters, added to every `paged` command. */
export const PAGING_PARAMS: readonly ParamDef[] = [
  { name: 'keyword', type: 'string', description: 'List by keyword' },
  { name: 'page', type: 'integer', description: 'The page number of the result set, starting at 1; needs pagesize' },
  { name: 'pagesize', type: 'integer', description: 'The number of rows per page; -1 for all rows; needs page' },
];

/**
 * The scope parameters of CloudStack's domain-scoped lists (BaseListDomainResourcesCmd and its
 * account/project descendants), for handlers to spread into their params. Their meaning (listall
 * defaults to false: only the caller's own resources) is the handler's to apply.
 */
export const DOMAIN_LIST_PARAMS: readonly ParamDef[] = [
  {
    name: 'listall', type: 'boolean',
    description: "If set to false, list only resources belonging to the command's caller; if set to true, list resources " +
      'that the caller is authorized to see. Default value is false',
  },
  { name: 'domainid', type: 'uuid', description: 'list only resources belonging to the domain specified' },
  {
    name: 'isrecursive', type: 'boolean',
    description: 'defaults to false, but if true, lists all resources from the parent specified by the domainId till leaves.',
  },
  { name: 'account', type: 'string', description: 'list resources by account. Must be used with the domainId parameter.' },
  { name: 'projectid', type: 'uuid', description: 'list objects by project' },
];

const PARAM_TYPES: ReadonlySet<ParamType> = new Set(['string', 'uuid', 'integer', 'long', 'boolean', 'date', 'list', 'map']);
const LIST_ITEM_TYPES: ReadonlySet<ListItemType> = new Set(['string', 'uuid', 'integer', 'long']);
const ACCESS: ReadonlySet<Access> = new Set(['admin', 'domainadmin', 'user', 'anonymous']);
const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const PARAM_NAME = /^[a-z][a-z0-9_]*$/;

function checkParam(command: string, p: ParamDef): void {
  const where = `command ${command}, parameter ${JSON.stringify(p.name)}`;
  if (!PARAM_NAME.test(p.name)) throw new ConfigError(`${where}: names must be lower case letters, digits or _`);
  if (!PARAM_TYPES.has(p.type)) throw new ConfigError(`${where}: unknown type ${JSON.stringify(p.type)}`);
  if (p.length !== undefined && (!Number.isInteger(p.length) || p.length < 1)) {
    throw new ConfigError(`${where}: length must be a positive integer`);
  }
  if (p.collectionType !== undefined && (p.type !== 'list' || !LIST_ITEM_TYPES.has(p.collectionType))) {
    throw new ConfigError(`${where}: collectionType applies to list parameters only (string, uuid, integer, long)`);
  }
}

function buildBase(spec: CommandSpecBase, isAsync: boolean, access: Access): DefinitionBase {
  if (!COMMAND_NAME.test(spec.name)) throw new ConfigError(`command name ${JSON.stringify(spec.name)} must be letters and digits`);
  if (!ACCESS.has(access)) throw new ConfigError(`command ${spec.name}: unknown access ${JSON.stringify(access)}`);
  const params = spec.paged === true ? [...spec.params, ...PAGING_PARAMS] : [...spec.params];
  const seen = new Set<string>();
  for (const p of params) {
    checkParam(spec.name, p);
    if (seen.has(p.name)) throw new ConfigError(`command ${spec.name}: parameter ${p.name} is declared twice`);
    seen.add(p.name);
  }
  return Object.freeze({
    name: spec.name,
    description: spec.description,
    isAsync,
    params: Object.freeze(params.map((p) => Object.freeze({ ...p }))),
    responseName: spec.responseName ?? `${spec.name.toLowerCase()}response`,
    objectName: spec.objectName,
    access,
    paged: spec.paged === true,
    since: spec.since,
    related: Object.freeze([...(spec.related ?? [])]),
    response: Object.freeze([...(spec.response ?? [])]),
    listed: spec.listed !== false,
    available: spec.available ?? ALWAYS,
  });
}

const ALWAYS = (): boolean => true;

/** Checks that a result fits the declaration: async commands answer with a job, others never do. */
function checkResult(name: string, isAsync: boolean, result: CommandResult): CommandResult {
  if (isAsync !== (result.kind === 'async')) {
    throw new InternalError(`command ${name} is declared ${isAsync ? 'async' : 'synchronous'} but returned a ${result.kind} result`);
  }
  return result;
}

/** Declares a command. Throws ConfigError at start-up for a malformed declaration. */
export function defineCommand<A extends Access>(spec: CommandSpec<A>): HandledCommand {
  const base = buildBase(spec, spec.isAsync, spec.access);
  const handler = spec.handler as (ctx: HandlerContext<Caller | undefined>) => Promise<CommandResult>;
  const anonymous = spec.access === 'anonymous';
  return Object.freeze({
    ...base,
    async invoke(ctx: HandlerContext<Caller | undefined>): Promise<CommandResult> {
      // The dispatcher authenticates before invoking; this guards against a wiring mistake.
      if (!anonymous && ctx.caller === undefined) throw new InternalError(`command ${spec.name} needs an authenticated caller`);
      return checkResult(spec.name, spec.isAsync, await handler(ctx));
    },
  });
}

/** Declares login or logout, which the HTTP session layer serves. */
export function defineSessionCommand(spec: CommandSpecBase & { readonly session: 'login' | 'logout' }): SessionCommand {
  return Object.freeze({ ...buildBase(spec, false, 'anonymous'), session: spec.session });
}

const RANK: Readonly<Record<Role, number>> = { user: 0, domainadmin: 1, admin: 2 };

/** Whether a caller with `role` may call a command with `access` (anonymous ones: anyone). */
export function roleAllows(access: Access, role: Role | undefined): boolean {
  if (access === 'anonymous') return true;
  return role !== undefined && RANK[role] >= RANK[access];
}

export interface CommandTable {
  /** Exact, case-sensitive lookup, as CloudStack registers API names. */
  get(name: string): CommandDefinition | undefined;
  /** Every command, sorted by name. */
  all(): readonly CommandDefinition[];
}

/** Builds the table. Two definitions with the same name are a start-up error. */
export function createCommandTable(definitions: readonly CommandDefinition[]): CommandTable {
  const byName = new Map<string, CommandDefinition>();
  for (const d of definitions) {
    if (byName.has(d.name)) throw new ConfigError(`command ${d.name} is defined twice in the command table`);
    byName.set(d.name, d);
  }
  const sorted = Object.freeze([...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  return {
    // hasOwn-style lookup: a Map cannot be fooled by names like "constructor" or "__proto__".
    get: (name) => byName.get(name),
    all: () => sorted,
  };
}
