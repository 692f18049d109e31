/**
 * The Kurento interface definitions (kmd.json files shipped with kurento-client) as the
 * single source of truth for what the engine speaks: classes, their constructors, methods,
 * properties and events, and the complex types their parameters use. Every request is
 * checked and marshalled against these definitions before any element code runs.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { KurentoError } from '../protocol/errors.js';

const require = createRequire(import.meta.url);

export interface KmdParam {
  name: string;
  type: string;
  optional?: boolean;
  defaultValue?: unknown;
}
export interface KmdMethod {
  name: string;
  params: KmdParam[];
  return?: { type: string };
}
export interface KmdProperty {
  name: string;
  type: string;
  readOnly?: boolean;
  final?: boolean;
  defaultValue?: unknown;
}
export interface KmdClass {
  name: string;
  extends?: string;
  abstract?: boolean;
  constructor?: { params: KmdParam[] };
  methods?: KmdMethod[];
  properties?: KmdProperty[];
  events?: string[];
}
export interface KmdComplexType {
  name: string;
  typeFormat: 'ENUM' | 'REGISTER';
  extends?: string;
  values?: string[];
  properties?: KmdProperty[];
}
export interface KmdEvent {
  name: string;
  extends?: string;
  properties?: KmdProperty[];
}
export interface KmdModule {
  name: string;
  version: string;
  kurentoVersion: string;
  remoteClasses?: KmdClass[];
  complexTypes?: KmdComplexType[];
  events?: KmdEvent[];
}

/** An operation a class answers: a kmd method, or a property getter/setter derived from a kmd property. */
export type Operation =
  | { kind: 'method'; method: KmdMethod; owner: string }
  | { kind: 'get'; property: KmdProperty; owner: string }
  | { kind: 'set'; property: KmdProperty; owner: string };

/** Resolves an object id to a live object (for params typed as a remote class). */
export type ObjectLookup = (id: string) => { typeName: string } | undefined;

const MODULE_NAMES = ['core', 'elements', 'filters'] as const;

function loadModule(name: string): { module: KmdModule; text: string } {
  const file = require.resolve(`kurento-client-${name}/src/${name}.kmd.json`);
  const text = readFileSync(file, 'utf8');
  return { module: JSON.parse(text) as KmdModule, text };
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export class KmdRegistry {
  readonly modules: KmdModule[] = [];
  private readonly texts = new Map<string, string>();
  private readonly classes = new Map<string, KmdClass>();
  private readonly complexTypes = new Map<string, KmdComplexType>();
  private readonly events = new Map<string, KmdEvent>();
  private readonly operationCache = new Map<string, Map<string, Operation>>();

  constructor() {
    for (const name of MODULE_NAMES) {
      const { module, text } = loadModule(name);
      this.modules.push(module);
      this.texts.set(module.name, text);
      for (const c of module.remoteClasses ?? []) this.classes.set(c.name, c);
      for (const t of module.complexTypes ?? []) this.complexTypes.set(t.name, t);
      for (const e of module.events ?? []) this.events.set(e.name, e);
    }
  }

  kmdText(moduleName: string): string | undefined {
    return this.texts.get(moduleName);
  }

  getClass(name: string): KmdClass | undefined {
    return this.classes.get(name);
  }

  allClasses(): KmdClass[] {
    return [...this.classes.values()];
  }

  allEventNames(): string[] {
    return [...this.events.keys()];
  }

  /**
   * Constructor params of a class, or undefined for classes without a constructor (abstract).
   * (`constructor` is read as an own property: every plain object inherits one from Object.)
   */
  constructorParams(name: string): KmdParam[] | undefined {
    const c = this.classes.get(name);
    return c && Object.hasOwn(c, 'constructor') ? (c.constructor?.params ?? []) : undefined;
  }

  /** The class and its ancestors, most derived first. */
  lineage(name: string): KmdClass[] {
    const out: KmdClass[] = [];
    for (let c = this.classes.get(name); c; c = c.extends ? this.classes.get(c.extends) : undefined) out.push(c);
    return out;
  }

  /** KMS's `describe` hierarchy: qualified ancestor names, nearest first, without the class itself. */
  hierarchy(name: string): string[] {
    return this.lineage(name).slice(1).map((c) => `kurento.${c.name}`);
  }

  isA(name: string, ancestor: string): boolean {
    return this.lineage(name).some((c) => c.name === ancestor);
  }

  /** Event types an object of this class can raise (its own and inherited). */
  eventsOf(name: string): Set<string> {
    return new Set(this.lineage(name).flatMap((c) => c.events ?? []));
  }

  /** Operation name → operation for a class: kmd methods plus get<Prop>/set<Prop> for its properties. */
  operations(name: string): Map<string, Operation> {
    let ops = this.operationCache.get(name);
    if (ops) return ops;
    ops = new Map();
    // Walk from the root down so derived classes override inherited definitions.
    for (const c of this.lineage(name).reverse()) {
      for (const m of c.methods ?? []) ops.set(m.name, { kind: 'method', method: m, owner: c.name });
      for (const p of c.properties ?? []) {
        ops.set(`get${capitalize(p.name)}`, { kind: 'get', property: p, owner: c.name });
        if (!p.readOnly && !p.final) ops.set(`set${capitalize(p.name)}`, { kind: 'set', property: p, owner: c.name });
      }
    }
    this.operationCache.set(name, ops);
    return ops;
  }

  /**
   * Checks and converts `params` against a parameter list as KMS does: missing mandatory
   * params and wrongly typed values answer 40001 MARSHALL_ERROR; unknown names are ignored.
   * Remote-class params are resolved through `lookup` (40101 when the object does not exist).
   */
  marshalParams(defs: KmdParam[], params: unknown, lookup: ObjectLookup): Record<string, unknown> {
    const given = params && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
    const out: Record<string, unknown> = {};
    for (const def of defs) {
      const value = given[def.name];
      if (value === undefined || value === null) {
        if (!def.optional) throw new KurentoError('MARSHALL_ERROR', `'${def.name}' parameter should be ${this.article(def.type)}`);
        if (def.defaultValue !== undefined) out[def.name] = def.defaultValue;
        continue;
      }
      out[def.name] = this.marshalValue(value, def.type, def.name, lookup);
    }
    return out;
  }

  marshalValue(value: unknown, type: string, name: string, lookup: ObjectLookup): unknown {
    const fail = (): never => {
      throw new KurentoError('MARSHALL_ERROR', `'${name}' parameter should be ${this.article(type)}`);
    };
    if (type.endsWith('[]')) {
      if (!Array.isArray(value)) fail();
      return (value as unknown[]).map((v) => this.marshalValue(v, type.slice(0, -2), name, lookup));
    }
    if (type.endsWith('<>')) {
      if (!value || typeof value !== 'object' || Array.isArray(value)) fail();
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, this.marshalValue(v, type.slice(0, -2), name, lookup)]),
      );
    }
    switch (type) {
      case 'String':
        return typeof value === 'string' ? value : fail();
      case 'boolean':
        return typeof value === 'boolean' ? value : fail();
      case 'int':
      case 'int64':
        return typeof value === 'number' && Number.isInteger(value) ? value : fail();
      case 'float':
      case 'double':
        return typeof value === 'number' && Number.isFinite(value) ? value : fail();
    }
    if (this.classes.has(type)) {
      if (typeof value !== 'string') fail();
      const target = lookup(value as string);
      if (!target) throw new KurentoError('MEDIA_OBJECT_NOT_FOUND', `Object '${value as string}' not found`);
      if (!this.isA(target.typeName, type)) fail();
      return value;
    }
    const complex = this.complexTypes.get(type);
    if (!complex) return value; // e.g. "Object" or a type from a module we do not load: pass through
    if (complex.typeFormat === 'ENUM') {
      return typeof value === 'string' && complex.values?.includes(value) ? value : fail();
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) fail();
    const fields = this.complexProperties(type);
    const record = this.marshalParams(
      fields.map((p) => ({ name: p.name, type: p.type, optional: true })),
      value,
      lookup,
    );
    // Mandatory fields of a REGISTER type are those without a default that the kmd does not mark optional.
    for (const p of fields) {
      if (record[p.name] === undefined && !(p as KmdParam).optional && p.defaultValue === undefined && this.isScalar(p.type)) {
        throw new KurentoError('MARSHALL_ERROR', `'${p.name}' parameter should be ${this.article(p.type)}`);
      }
    }
    return record;
  }

  /** All fields of a REGISTER complex type, inherited ones included. */
  complexProperties(type: string): KmdProperty[] {
    const out: KmdProperty[] = [];
    for (let t = this.complexTypes.get(type); t; t = t.extends ? this.complexTypes.get(t.extends) : undefined) {
      out.unshift(...(t.properties ?? []));
    }
    return out;
  }

  /** Adds `__module__`/`__type__` so kurento-client rebuilds the complex type. */
  tagComplex<T extends object>(type: string, value: T): T & { __module__: string; __type__: string } {
    return { __module__: 'kurento', __type__: type, ...value };
  }

  /** The value a property has before anyone sets it. */
  defaultFor(p: KmdProperty): unknown {
    if (p.defaultValue !== undefined) return p.defaultValue;
    const t = p.type;
    if (t.endsWith('[]')) return [];
    if (t.endsWith('<>')) return {};
    switch (t) {
      case 'String':
        return '';
      case 'boolean':
        return false;
      case 'int':
      case 'int64':
      case 'float':
      case 'double':
        return 0;
    }
    const complex = this.complexTypes.get(t);
    if (complex?.typeFormat === 'ENUM') return complex.values?.[0] ?? null;
    return null;
  }

  private isScalar(type: string): boolean {
    return ['String', 'boolean', 'int', 'int64', 'float', 'double'].includes(type);
  }

  /** "a double", "an integer", … as in KMS's marshalling errors. */
  private article(type: string): string {
    if (type.endsWith('[]')) return 'an array';
    switch (type) {
      case 'String':
        return 'a string';
      case 'boolean':
        return 'a boolean';
      case 'int':
        return 'an integer';
      case 'int64':
        return 'a long integer';
      case 'float': // KMS marshals float params as doubles and says so
      case 'double':
        return 'a double';
    }
    // Remote objects are referenced by their id, a string.
    if (this.classes.has(type)) return 'a string';
    const complex = this.complexTypes.get(type);
    if (complex?.typeFormat === 'ENUM') return `one of ${complex.values?.join(', ')}`;
    return `of type ${type}`;
  }
}

let shared: KmdRegistry | undefined;
/** The definitions, loaded once per process. */
export function kmd(): KmdRegistry {
  return (shared ??= new KmdRegistry());
}
