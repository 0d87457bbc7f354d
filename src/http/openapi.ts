import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.ts';
import { parse } from 'yaml';

export const openapiPath = projectPath('openapi', 'openapi.yaml');

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Record<string, unknown>> };
  [key: string]: unknown;
}

let cached: OpenApiDocument | undefined;

/** openapi/openapi.yaml, parsed once. It is both the published contract and the validation source. */
export function openApiDocument(): OpenApiDocument {
  cached ??= parse(readFileSync(openapiPath, 'utf8')) as OpenApiDocument;
  return cached;
}

/**
 * The document's component schemas as standalone JSON Schemas for Fastify's
 * validator: each gets `$id` = its name and `#/components/schemas/X` refs become `X#`.
 */
export function componentSchemas(doc: OpenApiDocument = openApiDocument()): Array<Record<string, unknown>> {
  return Object.entries(doc.components.schemas).map(([name, schema]) => ({ $id: name, ...rewriteRefs(schema) }));
}

/** Reference to a component schema from a route schema. */
export const schemaRef = (name: string) => ({ $ref: `${name}#` });

function rewriteRefs<T>(value: T): T {
  if (Array.isArray(value)) return value.map(rewriteRefs) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace(/^#\/components\/schemas\/(.+)$/, '$1#') : rewriteRefs(v),
      ]),
    ) as T;
  }
  return value;
}
