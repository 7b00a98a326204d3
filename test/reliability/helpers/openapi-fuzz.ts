import fc from 'fast-check';
import { hostileString } from './hostile-strings.js';

/** The subset of JSON Schema the OpenAPI document of Trailmark uses. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  $ref?: string;
}

export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly params: ReadonlyArray<{ in: string; name: string; required: boolean; schema: JsonSchema }>;
  readonly body?: JsonSchema;
  readonly access: 'public' | { roles: string[]; scopes: string[] };
}

interface OpenApiDoc {
  paths: Record<string, Record<string, {
    parameters?: Array<{ in: string; name: string; required?: boolean; schema: JsonSchema }>;
    requestBody?: { content?: Record<string, { schema: JsonSchema }> };
    'x-access'?: { roles: string[]; scopes: string[] };
  }>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Every operation of the API as the running server documents it (`/docs/json`). */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      params: (op.parameters ?? []).map((p) => ({ in: p.in, name: p.name, required: p.required === true, schema: p.schema })),
      body: op.requestBody?.content?.['application/json']?.schema,
      access: op['x-access'] ?? ('public' as const),
    })),
  );
}

const MAX_DEPTH = 5;

/** Values of the wrong type for anything: what a schema must refuse. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(-1, 0, 1.5, 1e21, -1e21, Number.MAX_SAFE_INTEGER + 2),
  hostileString(0, 20),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(hostileString(1, 8), fc.integer(), { maxKeys: 3 }),
);

/**
 * Mostly valid values for a schema, with hostile content wherever free text is allowed
 * (SQL, search syntax, control characters, lone surrogates, formula prefixes, long runs).
 */
export function valueOf(schema: JsonSchema | undefined, components: Record<string, JsonSchema>, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > MAX_DEPTH) return fc.jsonValue({ maxDepth: 1 });
  if (schema.$ref) return valueOf(components[schema.$ref.replace(/^#\/components\/schemas\//, '')], components, depth);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: hostileString(0, 16) });
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => valueOf(s, components, depth + 1)));
  if (schema.allOf) return valueOf(Object.assign({}, ...schema.allOf) as JsonSchema, components, depth);
  const type = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : schema.properties ? ['object'] : [];
  if (type.length > 1) return fc.oneof(...type.map((t) => valueOf({ ...schema, type: t }, components, depth)));
  switch (type[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'string':
      return stringOf(schema);
    case 'array':
      return fc.array(valueOf(schema.items, components, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)) });
    case 'object':
      return objectOf(schema, components, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  const free = hostileString(schema.minLength ?? 0, schema.maxLength ?? 64);
  if (schema.format === 'date-time') {
    return fc.oneof({ weight: 4, arbitrary: fc.date({ min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString()) }, { weight: 1, arbitrary: free });
  }
  if (schema.pattern) {
    let matching: fc.Arbitrary<string> | undefined;
    try {
      matching = fc.stringMatching(new RegExp(schema.pattern));
    } catch {
      matching = undefined;
    }
    if (matching) return fc.oneof({ weight: 3, arbitrary: matching.filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity)) }, { weight: 1, arbitrary: free });
  }
  return free;
}

function objectOf(schema: JsonSchema, components: Record<string, JsonSchema>, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, s] of Object.entries(props)) model[k] = valueOf(s, components, depth + 1);
  const known = fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
  const open = schema.additionalProperties === true || typeof schema.additionalProperties === 'object' || schema.patternProperties !== undefined;
  if (!open) return known;
  const extraSchema = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : Object.values(schema.patternProperties ?? {})[0];
  const extra = fc.dictionary(hostileString(1, 12), valueOf(extraSchema, components, depth + 1), { maxKeys: 3 });
  return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }));
}

/** One change that may make a valid value invalid: drop, add or retype a member, or replace the whole. */
interface Mutation {
  readonly kind: 'drop' | 'add' | 'retype' | 'replace' | 'proto';
  readonly pick: number;
  readonly key: string;
  readonly value: unknown;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('drop', 'add', 'retype', 'replace', 'proto'),
  pick: fc.nat(),
  key: hostileString(1, 12),
  value: wrongType,
});

function objectsIn(value: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (value && typeof value === 'object') {
    if (!Array.isArray(value)) out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) objectsIn(v, out);
  }
  return out;
}

/** Serialises `value` after applying `m` (the value is a fresh copy; the JSON text may carry `__proto__`). */
export function mutatedJson(value: unknown, m: Mutation | null): string {
  if (!m) return JSON.stringify(value);
  if (m.kind === 'replace') return JSON.stringify(m.value);
  const copy = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  const objects = objectsIn(copy);
  const target = objects[m.pick % Math.max(1, objects.length)];
  if (!target) return JSON.stringify(m.value);
  const keys = Object.keys(target);
  const key = keys[m.pick % Math.max(1, keys.length)];
  if (m.kind === 'drop' && key !== undefined) delete target[key];
  else if (m.kind === 'retype' && key !== undefined) target[key] = m.value;
  else if (m.kind === 'add') target[m.key] = m.value;
  if (m.kind === 'proto') {
    // Prototype-poisoning keys as the wire carries them.
    const text = JSON.stringify(copy);
    return text.startsWith('{') && text.length > 2 ? `{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":1}},${text.slice(1)}` : text;
  }
  return JSON.stringify(copy);
}

/** A body for `schema`: usually valid JSON for it, sometimes mutated, malformed, or not UTF-8. */
export function bodyOf(schema: JsonSchema, components: Record<string, JsonSchema>, valid?: fc.Arbitrary<unknown>): fc.Arbitrary<string | Buffer> {
  const value = valid ? fc.oneof(valid, valueOf(schema, components)) : valueOf(schema, components);
  return fc.tuple(value, fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: mutation }), fc.nat({ max: 19 })).map(([v, m, form]) => {
    const json = mutatedJson(v, m);
    if (form === 0) return json.slice(0, Math.max(0, json.length - 1 - (json.length >> 2))); // cut short
    if (form === 1) {
      // Bytes that are not UTF-8, inside the first string value.
      const at = json.indexOf('":"');
      const bytes = Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0x80, 0xed, 0xa0, 0x80, 0xf8, 0x88]);
      return at < 0 ? Buffer.concat([bytes, Buffer.from(json)]) : Buffer.concat([Buffer.from(json.slice(0, at + 3)), bytes, Buffer.from(json.slice(at + 3))]);
    }
    return json;
  });
}

/** A query string for the operation's query parameters: values from their schemas, plus noise. */
export function queryOf(op: Operation, components: Record<string, JsonSchema>): fc.Arbitrary<string> {
  const params = op.params.filter((p) => p.in === 'query');
  const parts = params.map((p) => (p.required ? valueOf(p.schema, components).map((v) => [p.name, v] as const) : fc.option(valueOf(p.schema, components).map((v) => [p.name, v] as const), { freq: 2, nil: null })));
  const noise = fc.constantFrom('', '', '', '&', '&unknown=1', '&q=%', '&q=%zz', '&resource=%ff%fe', '&actor=%00', '&limit=1&limit=2', '&__proto__[x]=1', '&q=' + '%41'.repeat(300));
  return fc.tuple(fc.tuple(...parts), noise).map(([pairs, tail]) => {
    const sp = new URLSearchParams();
    for (const pair of pairs) {
      if (!pair) continue;
      const [name, v] = pair;
      for (const item of Array.isArray(v) ? v : [v]) sp.append(name, typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item));
    }
    const text = sp.toString() + tail;
    return text ? `?${text.replace(/^&/, '')}` : '';
  });
}

/** Header values Node will send: characters outside TAB, 0x20–0x7e and 0x80–0xff become '?'. */
export const headerSafe = (s: string): string => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'user-agent': hostileString(0, 200).map(headerSafe),
      'x-forwarded-for': fc.oneof(hostileString(0, 40).map(headerSafe), fc.ipV4(), fc.ipV6()),
      accept: fc.constantFrom('*/*', 'text/html', 'application/json;q=0.1', 'garbage/\u00ff', ''),
      'accept-language': hostileString(0, 30).map(headerSafe),
      'x-request-id': hostileString(0, 80).map(headerSafe),
      origin: fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1'),
      'if-none-match': hostileString(0, 20).map(headerSafe),
    },
    { requiredKeys: [] },
  );

export const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/xml', 'application/json, text/plain') },
);
