import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/** A parsed block body as hcl2json renders it: expressions are `${...}` strings. */
export type Body = Record<string, unknown>;

/** Every top-level declaration of a Terraform configuration (one directory), parsed offline. */
export interface TerraformModel {
  files: string[];
  variables: Map<string, Body>;
  locals: Map<string, unknown>;
  /** `type.name` -> body. */
  resources: Map<string, Body>;
  /** `type.name` (without `data.`) -> body. */
  data: Map<string, Body>;
  outputs: Map<string, Body>;
  providers: Map<string, Body>;
  terraform: Body[];
  /** Every parsed file's JSON, keyed by file name. */
  raw: Map<string, Body>;
}

const asBodies = (v: unknown): Body[] => (Array.isArray(v) ? (v as Body[]) : v && typeof v === 'object' ? [v as Body] : []);

/** Parses one HCL text into a model (used for .tf directories and for snippets in tests). */
export async function parseTerraform(sources: Record<string, string>): Promise<TerraformModel> {
  const m: TerraformModel = {
    files: Object.keys(sources).sort(),
    variables: new Map(),
    locals: new Map(),
    resources: new Map(),
    data: new Map(),
    outputs: new Map(),
    providers: new Map(),
    terraform: [],
    raw: new Map(),
  };
  const declare = <T>(map: Map<string, T>, key: string, value: T, file: string) => {
    if (map.has(key)) throw new Error(`${file}: ${key} is declared twice`);
    map.set(key, value);
  };
  for (const file of m.files) {
    const json = (await parse(file, sources[file] ?? '')) as Body;
    m.raw.set(file, json);
    for (const [name, bodies] of Object.entries((json.variable ?? {}) as Record<string, unknown>)) {
      declare(m.variables, name, asBodies(bodies)[0] ?? {}, file);
    }
    for (const block of asBodies(json.locals)) {
      for (const [name, value] of Object.entries(block)) declare(m.locals, name, value, file);
    }
    for (const [kind, target] of [['resource', m.resources], ['data', m.data]] as const) {
      for (const [type, named] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, unknown>>)) {
        for (const [name, bodies] of Object.entries(named)) declare(target, `${type}.${name}`, asBodies(bodies)[0] ?? {}, file);
      }
    }
    for (const [name, bodies] of Object.entries((json.output ?? {}) as Record<string, unknown>)) {
      declare(m.outputs, name, asBodies(bodies)[0] ?? {}, file);
    }
    for (const [name, bodies] of Object.entries((json.provider ?? {}) as Record<string, unknown>)) {
      declare(m.providers, name, asBodies(bodies)[0] ?? {}, file);
    }
    m.terraform.push(...asBodies(json.terraform));
  }
  return m;
}

/** Parses every `.tf` file of a directory. */
export async function loadTerraform(dir: string): Promise<TerraformModel> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.tf'));
  const sources: Record<string, string> = {};
  for (const f of names) sources[f] = await readFile(join(dir, f), 'utf8');
  return parseTerraform(sources);
}

/** A reference found in an expression: `var.x`, `local.x`, `data.t.n`, `t.n` (a resource). */
export interface Reference {
  kind: 'var' | 'local' | 'data' | 'resource';
  name: string;
  /** Where it was found, e.g. `resource aws_sqs_queue.jobs`. */
  where: string;
}

// Names that are not declarations: meta-arguments and built-in objects.
const BUILTINS = new Set(['each', 'count', 'self', 'path', 'terraform']);
// Prose fields: their text is never an expression worth resolving.
const PROSE = new Set(['description', 'alarm_description', 'error_message']);
const TOKEN = /(?<![\w.-])([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?/g;

/** Iterator names of `for` expressions in an expression text (`for k, v in ...`). */
function forIterators(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b/g)) {
    if (m[1]) out.add(m[1]);
    if (m[2]) out.add(m[2]);
  }
  return out;
}

/** Every reference in one expression string (only inside `${...}` interpolations). */
export function referencesInText(text: string, where: string): Reference[] {
  if (!text.includes('${')) return [];
  const iterators = forIterators(text);
  const out: Reference[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const [, a = '', b = '', c] = m;
    if (BUILTINS.has(a) || iterators.has(a)) continue;
    if (a === 'var') out.push({ kind: 'var', name: b, where });
    else if (a === 'local') out.push({ kind: 'local', name: b, where });
    else if (a === 'data' && c) out.push({ kind: 'data', name: `${b}.${c}`, where });
    // A resource type is `<provider>_<kind>`; single words (iterators, hostnames in text) are not.
    else if (/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(a)) out.push({ kind: 'resource', name: `${a}.${b}`, where });
  }
  return out;
}

/** Every reference under a parsed value, walking objects and arrays. */
export function referencesIn(value: unknown, where: string): Reference[] {
  if (typeof value === 'string') return referencesInText(value, where);
  if (Array.isArray(value)) return value.flatMap((v) => referencesIn(v, where));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (PROSE.has(k) ? [] : referencesIn(v, where)));
  }
  return [];
}

/** Every reference in the configuration, with where it appears. */
export function allReferences(m: TerraformModel): Reference[] {
  const out: Reference[] = [];
  for (const [n, b] of m.variables) out.push(...referencesIn(b.validation, `variable ${n}`));
  for (const [n, v] of m.locals) out.push(...referencesIn(v, `local ${n}`));
  for (const [n, b] of m.resources) out.push(...referencesIn(b, `resource ${n}`));
  for (const [n, b] of m.data) out.push(...referencesIn(b, `data ${n}`));
  for (const [n, b] of m.outputs) out.push(...referencesIn(b, `output ${n}`));
  for (const [n, b] of m.providers) out.push(...referencesIn(b, `provider ${n}`));
  return out;
}

/** References that name nothing declared, as readable lines. */
export function unresolvedReferences(m: TerraformModel): string[] {
  const declared = { var: m.variables, local: m.locals, data: m.data, resource: m.resources };
  return allReferences(m)
    .filter((r) => !declared[r.kind].has(r.name))
    .map((r) => `${r.where}: ${r.kind === 'var' ? 'var.' : r.kind === 'local' ? 'local.' : r.kind === 'data' ? 'data.' : ''}${r.name} is not declared`);
}

/** A block's nested blocks of one kind (hcl2json renders them as arrays of bodies). */
export function blocks(body: Body | undefined, kind: string): Body[] {
  return asBodies(body?.[kind]);
}

/** The one resource or data source with this address, or a clear failure. */
export function mustGet(map: Map<string, Body>, address: string): Body {
  const b = map.get(address);
  if (!b) throw new Error(`${address} is not declared`);
  return b;
}
