// openapi.yaml as plain YAML values, for tests that hold the SDK to the
// contract (the same walks as gen/contract_test.go and gen/openenum_test.go).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoDir } from './refserver.js';

type Obj = Record<string, unknown>;

export function dig(v: unknown, ...keys: string[]): unknown {
  for (const k of keys) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Obj)[k];
  }
  return v;
}

/** The schema name of `{$ref: '#/components/schemas/X'}`, or ''. */
export function refName(v: unknown): string {
  const ref = dig(v, '$ref');
  return typeof ref === 'string' ? ref.replace('#/components/schemas/', '') : '';
}

export class Spec {
  readonly doc: Obj;
  readonly schemas: Record<string, Obj>;

  constructor(text: string = readFileSync(join(repoDir, 'openapi.yaml'), 'utf8')) {
    this.doc = parse(text) as Obj;
    this.schemas = dig(this.doc, 'components', 'schemas') as Record<string, Obj>;
  }

  /** The values of an enum schema (undefined when `name` is not an enum). */
  enumValues(name: string): string[] | undefined {
    const e = dig(this.schemas[name], 'enum');
    return Array.isArray(e) ? (e as string[]) : undefined;
  }

  /** Whether s is `anyOf: [{$ref: <enum>}, {type: string}]`, an open enum. */
  isOpen(s: unknown): boolean {
    const alts = dig(s, 'anyOf');
    if (!Array.isArray(alts) || alts.length !== 2) return false;
    const str = alts[1] as Obj;
    return dig(str, 'type') === 'string' && Object.keys(str).length === 1 && this.enumValues(refName(alts[0])) !== undefined;
  }

  #enumValued(s: unknown): boolean {
    if (Array.isArray(dig(s, 'enum'))) return true;
    if (this.enumValues(refName(s))) return true;
    const alts = dig(s, 'anyOf');
    return Array.isArray(alts) && alts.some((a) => this.enumValues(refName(a)) !== undefined);
  }

  /** A schema's members whose values come from an enum: "member", or "member[]" for an array of them. */
  enumMembers(name: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const props = (dig(this.schemas[name], 'properties') ?? {}) as Obj;
    for (const [prop, ps] of Object.entries(props)) {
      const items = dig(ps, 'items');
      if (items && typeof items === 'object' && dig(ps, 'type') === 'array') {
        if (this.#enumValued(items)) out.set(`${prop}[]`, items);
        continue;
      }
      if (this.#enumValued(ps)) out.set(prop, ps);
    }
    return out;
  }

  /** Every open-enum member of every schema, as "Schema.member" (or "Schema.member[]"). */
  openMembers(): string[] {
    const out: string[] = [];
    for (const name of Object.keys(this.schemas).sort()) {
      for (const [m, s] of this.enumMembers(name)) if (this.isOpen(s)) out.push(`${name}.${m}`);
    }
    return out;
  }

  /** name and the schemas its allOf is made of. */
  parts(name: string): string[] {
    const all = dig(this.schemas[name], 'allOf');
    return [name, ...(Array.isArray(all) ? all.map(refName) : [])];
  }

  /** "Alternative.member" for each member that tells a oneOf's alternatives apart. */
  discriminators(): Set<string> {
    const out = new Set<string>();
    for (const s of Object.values(this.schemas)) {
      const prop = dig(s, 'discriminator', 'propertyName');
      if (typeof prop !== 'string') continue;
      for (const alt of (dig(s, 'oneOf') ?? []) as unknown[]) out.add(`${refName(alt)}.${prop}`);
    }
    return out;
  }

  /** The named schemas a response can contain. */
  responseSchemas(): Set<string> {
    const roots: string[] = [];
    const collect = (v: unknown): void => walkRefs(v, (n) => roots.push(n));
    collect(dig(this.doc, 'components', 'responses'));
    for (const item of Object.values((dig(this.doc, 'paths') ?? {}) as Obj)) {
      for (const op of Object.values(item as Obj)) collect(dig(op, 'responses'));
    }
    const seen = new Set<string>();
    const add = (n: string): void => {
      if (seen.has(n)) return;
      seen.add(n);
      walkRefs(this.schemas[n], add);
    };
    roots.forEach(add);
    return seen;
  }

  /** The response schemas with an enum-valued member of their own (allOf parts included), frame discriminators aside. */
  schemasWithEnums(): string[] {
    const disc = this.discriminators();
    return [...this.responseSchemas()].sort().filter((name) =>
      this.parts(name).some((p) => [...this.enumMembers(p).keys()].some((m) => !disc.has(`${p}.${m}`))),
    );
  }

  /** The values of `fixture`'s enum members (of schema `name`) that the enums do not list. */
  unknownValues(name: string, fixture: unknown): string[] {
    const out: string[] = [];
    for (const p of this.parts(name)) {
      for (const [member, s] of this.enumMembers(p)) {
        const alts = dig(s, 'anyOf');
        const known = new Set(Array.isArray(alts) ? (this.enumValues(refName(alts[0])) ?? []) : []);
        const isArray = member.endsWith('[]');
        const v = dig(fixture, member.replace(/\[\]$/, ''));
        for (const x of isArray ? (Array.isArray(v) ? v : []) : [v]) {
          if (typeof x === 'string' && !known.has(x)) out.push(x);
        }
      }
    }
    return out;
  }
}

function walkRefs(v: unknown, visit: (name: string) => void): void {
  if (Array.isArray(v)) {
    for (const c of v) walkRefs(c, visit);
    return;
  }
  if (!v || typeof v !== 'object') return;
  const n = refName(v);
  if (n) visit(n);
  for (const [k, c] of Object.entries(v as Obj)) {
    if (k !== 'example' && k !== 'examples') walkRefs(c, visit);
  }
}
