/**
 * A few strict schema combinators for untrusted data (IPC payloads, the settings file): each
 * schema checks a value and returns it typed, or says what is wrong and where. Strict means:
 * objects must be plain and have no keys the schema does not name, numbers must be finite,
 * strings have a maximum length. No dependency: the checks we need are this small.
 */

export interface Problem {
  /** Where, as a dotted path ('' for the value itself). */
  path: string;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export interface Schema<T> {
  check(value: unknown, path?: string): Checked<T>;
}

/** A key that may be absent from an object (never `undefined` when present). */
export interface OptionalSchema<T> extends Schema<T> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A hostile payload with a million bad keys gets a short answer, not a million problems. */
const MAX_PROBLEMS = 10;

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const fail = (path: string, message: string): Checked<never> => ({ ok: false, problems: [{ path, message }] });
const at = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

export function string(opts: { max: number; min?: number; test?: (s: string) => string | undefined }): Schema<string> {
  return {
    check(v, path = '') {
      if (typeof v !== 'string') return fail(path, 'must be text');
      if (v.length > opts.max) return fail(path, `must be at most ${opts.max} characters`);
      if (v.length < (opts.min ?? 0)) return fail(path, opts.min === 1 ? 'must not be empty' : `must be at least ${opts.min} characters`);
      const problem = opts.test?.(v);
      return problem ? fail(path, problem) : ok(v);
    },
  };
}

export function number(opts: { min: number; max: number; integer?: boolean }): Schema<number> {
  return {
    check(v, path = '') {
      // Deliberately no coercion: KMS silently ignores a placement sent as "-0.2F".
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, 'must be a number');
      if (opts.integer && !Number.isInteger(v)) return fail(path, 'must be a whole number');
      if (v < opts.min || v > opts.max) return fail(path, `must be between ${opts.min} and ${opts.max}`);
      return ok(v);
    },
  };
}

export function boolean(): Schema<boolean> {
  return { check: (v, path = '') => (typeof v === 'boolean' ? ok(v) : fail(path, 'must be true or false')) };
}

export function literal<const L extends readonly (string | number | boolean)[]>(...values: L): Schema<L[number]> {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return {
    check: (v, path = '') =>
      values.includes(v as L[number]) ? ok(v as L[number]) : fail(path, values.length === 1 ? `must be ${list}` : `must be one of ${list}`),
  };
}

/** Only `undefined`: for requests that take no argument. */
export function nothing(): Schema<undefined> {
  return { check: (v, path = '') => (v === undefined ? ok(undefined) : fail(path, 'takes no argument')) };
}

export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return { check: (v, path = '') => (v === null ? ok(null) : schema.check(v, path)) };
}

export function optional<T>(schema: Schema<T>): OptionalSchema<T> {
  return { optional: true, check: (v, path) => schema.check(v, path) };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] };
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Structured clone (IPC) and JSON.parse both give plain objects; anything else is refused. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return {
    check(v, path = '') {
      if (!isPlainObject(v)) return fail(path, 'must be an object');
      const problems: Problem[] = [];
      for (const key of Object.keys(v)) {
        if (problems.length >= MAX_PROBLEMS) break;
        if (!Object.hasOwn(shape, key)) problems.push({ path: at(path, key), message: 'is not expected here' });
      }
      const out: Record<string, unknown> = {};
      for (const [key, schema] of Object.entries(shape)) {
        const present = Object.hasOwn(v, key) && v[key] !== undefined;
        if (!present) {
          if (!('optional' in schema)) problems.push({ path: at(path, key), message: 'is missing' });
          continue;
        }
        const r = schema.check(v[key], at(path, key));
        if (r.ok) out[key] = r.value;
        else problems.push(...r.problems);
      }
      return problems.length ? { ok: false, problems: problems.slice(0, MAX_PROBLEMS) } : ok(out as ObjectOf<S>);
    },
  };
}

/**
 * A tagged union: the `tag` key picks which object schema applies, so a problem is reported
 * against the right variant instead of "matches none of …".
 */
export function variant<K extends string, V extends Record<string, Schema<object>>>(tag: K, variants: V): Schema<Infer<V[keyof V]>> {
  const tags = Object.keys(variants);
  return {
    check(v, path = '') {
      if (!isPlainObject(v)) return fail(path, 'must be an object');
      const t = v[tag];
      if (typeof t !== 'string' || !Object.hasOwn(variants, t)) {
        return fail(at(path, tag), `must be one of ${tags.map((x) => JSON.stringify(x)).join(', ')}`);
      }
      return variants[t]!.check(v, path) as Checked<Infer<V[keyof V]>>;
    },
  };
}

/** One line a person (or a log) can read: `kmsUri: must be …; overlay.widthPercent: must be a number`. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}
