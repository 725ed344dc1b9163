import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { type ZodType, z } from 'zod';

type RouteSchema = ZodType | { properties: ZodType };
type JsonSchema = { [keyword: string]: unknown };

const isSchema = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The property every branch fixes with a `const` (a discriminated union's tag), if any. */
function discriminatorOf(branches: JsonSchema[]): string | null {
  const first = branches[0]?.properties;
  if (!isSchema(first)) return null;
  for (const key of Object.keys(first)) {
    const isTag = branches.every((branch) => {
      const property = isSchema(branch.properties) ? branch.properties[key] : undefined;
      return isSchema(property) && property.const !== undefined;
    });
    if (isTag) return key;
  }
  return null;
}

/**
 * The same schema in the shape fast-json-stringify writes fastest. It picks a branch of an
 * `anyOf`/`oneOf` by validating the value against each branch in full (formats, patterns),
 * which costs more than the writing itself; so "X or null" becomes a nullable X, and a union
 * tagged by a `const` property becomes an if/then chain that looks at the tag alone.
 */
export function forSerialization(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerialization);
  if (!isSchema(schema)) return schema;
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(schema)) out[keyword] = forSerialization(value);
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = out[keyword];
    if (!Array.isArray(branches) || !branches.every(isSchema)) continue;
    const others = branches.filter((branch) => branch.type !== 'null');
    const [only] = others;
    if (others.length === 1 && branches.length === 2 && only && typeof only.type === 'string') {
      delete out[keyword];
      return { ...out, ...only, nullable: true };
    }
    const tag = branches.length > 1 && others.length === branches.length ? discriminatorOf(branches) : null;
    if (tag === null) continue;
    delete out[keyword];
    let chain: JsonSchema = branches.at(-1)!;
    for (const branch of branches.slice(0, -1).reverse()) {
      const value = (branch.properties as JsonSchema)[tag] as JsonSchema;
      chain = {
        if: { type: 'object', properties: { [tag]: { const: value.const } }, required: [tag] },
        // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
        then: branch,
        else: chain,
      };
    }
    return { ...out, ...chain };
  }
  return out;
}

/**
 * Serialises answers with a function compiled once per route and status from the zod
 * response schema (turned into JSON Schema for fast-json-stringify), instead of running
 * zod over every answer: only the declared fields are written, so nothing the schema
 * leaves out (such as a stored secret) can leak. A schema JSON Schema cannot express
 * falls back to zod.
 */
export const compiledSerializerCompiler: FastifySerializerCompiler<RouteSchema> = (route) => {
  const schema = route.schema instanceof z.ZodType ? route.schema : route.schema.properties;
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(schema, { io: 'output', target: 'draft-07', unrepresentable: 'throw' });
  } catch {
    return zodSerializerCompiler(route);
  }
  const { $schema: _dialect, ...rest } = jsonSchema;
  return fastJson(forSerialization(rest) as Parameters<typeof fastJson>[0]);
};
