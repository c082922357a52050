/** The OpenAPI document's parts that come from the registries: paths, security, error schemas. */
import { describe, expect, it } from 'vitest';
import { API_SHAPES, KEY_CARRIERS } from '#shared/apis.ts';
import { openApiDocument, openApiPath } from '#shared/openapi.ts';
import { ROUTES } from '#shared/routes.ts';

interface Operation {
  security: Array<Record<string, string[]>>;
  tags: string[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
const doc = openApiDocument('9.9.9') as {
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};
const operation = (method: string, path: string): Operation | undefined =>
  doc.paths[openApiPath(path)]?.[method.toLowerCase()];

describe('openApiPath', () => {
  it("turns API Gateway's greedy parameter into an OpenAPI one", () => {
    expect(openApiPath('/v1beta/models/{model+}')).toBe('/v1beta/models/{model}');
    expect(openApiPath('/v1/models')).toBe('/v1/models');
  });
});

describe('openApiDocument', () => {
  it('declares one security scheme per key carrier and one error schema per API shape', () => {
    expect(Object.keys(doc.components.securitySchemes)).toEqual(Object.keys(KEY_CARRIERS));
    for (const shape of Object.values(API_SHAPES))
      expect(doc.components.schemas).toHaveProperty(shape.errorSchema.name);
    expect(doc.info.version).toBe('9.9.9');
  });

  it("secures OpenAI routes with bearer alone and the others with their API's carriers", () => {
    expect(operation('POST', '/v1/chat/completions')?.security).toEqual([{ bearer: [] }]);
    expect(operation('POST', '/v1beta/models/{model+}')?.security).toEqual([
      { bearer: [] },
      { googApiKey: [] },
      { googQueryKey: [] },
    ]);
    expect(operation('GET', '/v1/models')?.security[0]).toEqual({});
    expect(operation('GET', '/health')?.security).toEqual([]);
  });

  it("points each route's errors at its API's error schema and tags gateway routes apart", () => {
    for (const route of ROUTES) {
      const op = operation(route.method, route.path);
      const ref = op?.responses['404']?.content?.['application/json']?.schema.$ref;
      expect(ref).toBe(`#/components/schemas/${API_SHAPES[route.shape].errorSchema.name}`);
    }
    expect(operation('GET', '/health')?.tags).toEqual(['gateway']);
    expect(operation('POST', '/v1/messages')?.tags).toEqual(['anthropic']);
  });
});
