/**
 * A small runtime schema language whose declarations also yield the TypeScript types, so that a
 * protocol is declared once: the compile-time types of its messages and the validator applied to
 * every message that enters a node from a transport come from the same object.
 */
export interface Schema<T> {
  readonly kind: string;
  /** Appends a message per problem to `errors` (bounded by the caller); true when `v` conforms. */
  check(v: unknown, path: string, errors: string[]): boolean;
  /** Phantom field carrying the inferred type; never set at run time. */
  readonly __type?: T;
}

export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
  readonly inner: Schema<T>;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;
type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferObject<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & {
    [K in OptionalKeys<S>]?: S[K] extends OptionalSchema<infer U> ? U : never;
  }
>;

/** Limits on what a validator accepts, so that validation itself stays cheap on hostile input. */
export const SCHEMA_LIMITS = {
  /** Default maximum string length in characters when a schema gives none. */
  maxString: 1_048_576,
  /** Default maximum array length when a schema gives none. */
  maxItems: 100_000,
  /** Error messages kept per validation. */
  maxErrors: 8,
};

function fail(errors: string[], msg: string): false {
  if (errors.length < SCHEMA_LIMITS.maxErrors) errors.push(msg);
  return false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True for the plain data types that may travel on the wire. */
export function isPlainData(v: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  switch (typeof v) {
    case 'string': case 'boolean': return true;
    case 'number': return Number.isFinite(v);
    case 'object':
      if (v === null || v instanceof Uint8Array) return true;
      if (Array.isArray(v)) return v.every((x) => isPlainData(x, depth + 1));
      if (!isPlainObject(v)) return false;
      for (const k in v) if (!isPlainData(v[k], depth + 1)) return false;
      return true;
    default: return false;
  }
}

function make<T>(kind: string, check: Schema<T>['check']): Schema<T> {
  return { kind, check };
}

export const t = {
  string(opts: { maxLength?: number; minLength?: number; pattern?: RegExp } = {}): Schema<string> {
    const max = opts.maxLength ?? SCHEMA_LIMITS.maxString;
    return make('string', (v, p, e) => {
      if (typeof v !== 'string') return fail(e, `${p}: expected a string`);
      if (v.length > max) return fail(e, `${p}: longer than ${max} characters`);
      if (opts.minLength !== undefined && v.length < opts.minLength) return fail(e, `${p}: shorter than ${opts.minLength}`);
      if (opts.pattern && !opts.pattern.test(v)) return fail(e, `${p}: does not match ${String(opts.pattern)}`);
      return true;
    });
  },
  number(opts: { int?: boolean; min?: number; max?: number } = {}): Schema<number> {
    return make('number', (v, p, e) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail(e, `${p}: expected a finite number`);
      if (opts.int && !Number.isInteger(v)) return fail(e, `${p}: expected an integer`);
      if (opts.min !== undefined && v < opts.min) return fail(e, `${p}: below ${opts.min}`);
      if (opts.max !== undefined && v > opts.max) return fail(e, `${p}: above ${opts.max}`);
      return true;
    });
  },
  boolean(): Schema<boolean> {
    return make('boolean', (v, p, e) => typeof v === 'boolean' || fail(e, `${p}: expected a boolean`));
  },
  null(): Schema<null> {
    return make('null', (v, p, e) => v === null || fail(e, `${p}: expected null`));
  },
  bytes(opts: { maxLength?: number } = {}): Schema<Uint8Array> {
    const max = opts.maxLength ?? SCHEMA_LIMITS.maxString;
    return make('bytes', (v, p, e) => {
      if (!(v instanceof Uint8Array)) return fail(e, `${p}: expected bytes`);
      return v.length <= max || fail(e, `${p}: more than ${max} bytes`);
    });
  },
  literal<const L extends string | number | boolean>(...values: L[]): Schema<L> {
    return make('literal', (v, p, e) =>
      values.includes(v as L) || fail(e, `${p}: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`));
  },
  array<T>(item: Schema<T>, opts: { maxItems?: number } = {}): Schema<T[]> {
    const max = opts.maxItems ?? SCHEMA_LIMITS.maxItems;
    return make('array', (v, p, e) => {
      if (!Array.isArray(v)) return fail(e, `${p}: expected an array`);
      if (v.length > max) return fail(e, `${p}: more than ${max} items`);
      let ok = true;
      for (let i = 0; i < v.length && e.length < SCHEMA_LIMITS.maxErrors; i++) ok = item.check(v[i], `${p}[${i}]`, e) && ok;
      return ok;
    });
  },
  object<S extends Shape>(shape: S, opts: { strict?: boolean } = {}): Schema<InferObject<S>> {
    const keys = Object.keys(shape);
    return make('object', (v, p, e) => {
      if (!isPlainObject(v)) return fail(e, `${p}: expected an object`);
      let ok = true;
      for (const k of keys) {
        const s = shape[k]!;
        const x = v[k];
        if (x === undefined && (s as Partial<OptionalSchema<unknown>>).optional) continue;
        if (x === undefined) { ok = fail(e, `${p}.${k}: required`); continue; }
        ok = s.check(x, `${p}.${k}`, e) && ok;
      }
      if (opts.strict) for (const k in v) if (!(k in shape)) ok = fail(e, `${p}.${k}: unexpected field`);
      return ok;
    });
  },
  record<T>(value: Schema<T>, opts: { maxKeys?: number } = {}): Schema<Record<string, T>> {
    const max = opts.maxKeys ?? SCHEMA_LIMITS.maxItems;
    return make('record', (v, p, e) => {
      if (!isPlainObject(v)) return fail(e, `${p}: expected an object`);
      let n = 0;
      let ok = true;
      for (const k in v) {
        if (++n > max) return fail(e, `${p}: more than ${max} keys`);
        ok = value.check(v[k], `${p}.${k}`, e) && ok;
      }
      return ok;
    });
  },
  optional<T>(inner: Schema<T>): OptionalSchema<T> {
    return {
      kind: 'optional', optional: true, inner,
      check: (v, p, e) => v === undefined || inner.check(v, p, e),
    };
  },
  nullable<T>(inner: Schema<T>): Schema<T | null> {
    return make('nullable', (v, p, e) => v === null || inner.check(v, p, e));
  },
  union<A extends Schema<unknown>[]>(...options: A): Schema<Infer<A[number]>> {
    return make('union', (v, p, e) => {
      const scratch: string[] = [];
      for (const o of options) if (o.check(v, p, scratch)) return true;
      return fail(e, `${p}: matches none of the allowed shapes (${scratch.slice(0, 2).join('; ')})`);
    });
  },
  /** Any plain data (the codec has already refused everything else). */
  unknown(): Schema<unknown> {
    return make('unknown', () => true);
  },
  /**
   * A value whose TypeScript type is given by the declaration and whose run-time check is only
   * "plain data". Used for large reply shapes produced by trusted components of the same cluster.
   */
  type<T>(): Schema<T> {
    return make('type', () => true);
  },
  void(): Schema<void> {
    return make('void', () => true);
  },
};

/** Validates `v`; returns undefined when it conforms, otherwise a short description of what is wrong. */
export function validate<T>(schema: Schema<T>, v: unknown, path = 'body'): string | undefined {
  const errors: string[] = [];
  return schema.check(v, path, errors) ? undefined : errors.join('; ') || `${path}: invalid`;
}
