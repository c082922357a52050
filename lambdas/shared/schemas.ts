/**
 * Request schemas: the one source of truth for what the gateway checks in a request body and for the
 * request bodies of the OpenAPI document. Only what the gateway itself relies on is required; everything
 * else passes through to the upstream, which judges it in its own words.
 */
import type { RouteOperation } from './routes.ts';

/** The JSON Schema subset the gateway uses. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'boolean' | 'number' | 'integer';
  description?: string;
  required?: readonly string[];
  properties?: Readonly<Record<string, JsonSchema>>;
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  maxLength?: number;
  oneOf?: readonly JsonSchema[];
}

const model: JsonSchema = {
  type: 'string',
  minLength: 1,
  // Far above any real model id or alias; a longer one could not be routed or logged.
  maxLength: 256,
  description: "A Tollgate slug 'provider/model' (e.g. openai/gpt-4o) or an alias",
};
const stream: JsonSchema = { type: 'boolean', description: 'Stream the answer as server-sent events' };
const messages: JsonSchema = {
  type: 'array',
  minItems: 1,
  items: { type: 'object' },
  description: 'The conversation',
};
const input: JsonSchema = { oneOf: [{ type: 'string' }, { type: 'array' }], description: 'The input' };

/** Request bodies by operation. */
export const REQUEST_SCHEMAS: Partial<Record<RouteOperation, JsonSchema>> = {
  chatCompletions: {
    type: 'object',
    required: ['model', 'messages'],
    properties: { model, messages, stream },
    additionalProperties: true,
  },
  responses: {
    type: 'object',
    required: ['model', 'input'],
    properties: { model, input, stream },
    additionalProperties: true,
  },
  embeddings: {
    type: 'object',
    required: ['model', 'input'],
    properties: { model, input },
    additionalProperties: true,
  },
  messages: {
    type: 'object',
    required: ['model', 'messages'],
    properties: {
      model: {
        ...model,
        description: 'A slug, an alias, or a bare model id (served by the first Anthropic provider)',
      },
      messages,
      stream,
      max_tokens: { type: 'integer' },
    },
    additionalProperties: true,
  },
  countTokens: {
    type: 'object',
    required: ['model', 'messages'],
    properties: { model, messages },
    additionalProperties: true,
  },
  geminiModel: {
    type: 'object',
    required: ['contents'],
    properties: {
      contents: { type: 'array', minItems: 1, items: { type: 'object' }, description: 'The conversation' },
    },
    additionalProperties: true,
  },
};

function matches(schema: JsonSchema, value: unknown): boolean {
  if (schema.oneOf !== undefined) return schema.oneOf.some((s) => matches(s, value));
  switch (schema.type) {
    case undefined:
      return true;
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return (
        Array.isArray(value) &&
        value.length >= (schema.minItems ?? 0) &&
        (schema.items === undefined || value.every((v) => matches(schema.items as JsonSchema, v)))
      );
    case 'string':
      return (
        typeof value === 'string' &&
        value.trim().length >= (schema.minLength ?? 0) &&
        value.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY)
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
  }
}

function expectation(schema: JsonSchema): string {
  if (schema.type === 'array') return (schema.minItems ?? 0) > 0 ? 'a non-empty array' : 'an array';
  if (schema.type === 'integer') return 'an integer';
  if (schema.type === 'object') return 'an object';
  if (schema.type === 'string' && schema.maxLength !== undefined)
    return `a string of at most ${schema.maxLength} characters`;
  return schema.type === undefined ? 'present' : `a ${schema.type}`;
}

/**
 * The first problem with a request body, as a sentence for the client, or undefined when it is valid.
 * A `null` optional field counts as absent, as the upstream APIs treat it.
 */
export function validationError(schema: JsonSchema, body: Record<string, unknown>): string | undefined {
  for (const name of schema.required ?? []) {
    const property = schema.properties?.[name] ?? {};
    if (body[name] === undefined || body[name] === null)
      return property.type === undefined
        ? `'${name}' is required.`
        : `'${name}' is required and must be ${expectation(property)}.`;
    if (!matches(property, body[name])) return `'${name}' is required and must be ${expectation(property)}.`;
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const value = body[name];
    if (value !== undefined && value !== null && !matches(property, value))
      return `'${name}' must be ${expectation(property)}.`;
  }
  return undefined;
}
