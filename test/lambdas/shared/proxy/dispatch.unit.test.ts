/** The operation → handler map: every route has a handler, and every proxied operation is proxied. */
import { describe, expect, it } from 'vitest';
import { ROUTE_HANDLERS } from '#shared/proxy/dispatch.ts';
import { OPERATIONS } from '#shared/proxy/operations.ts';
import { proxied } from '#shared/proxy/proxied.ts';
import { ROUTES } from '#shared/routes.ts';

describe('ROUTE_HANDLERS', () => {
  it('serves every route of the table', () => {
    for (const route of ROUTES) expect(ROUTE_HANDLERS[route.operation]).toBeTypeOf('function');
  });

  it('sends exactly the operations that have an upstream to the proxied call', () => {
    // Act
    const proxiedOperations = Object.entries(ROUTE_HANDLERS)
      .filter(([, handler]) => handler === proxied)
      .map(([operation]) => operation)
      .sort();

    // Assess
    expect(proxiedOperations).toEqual(Object.keys(OPERATIONS).sort());
  });
});
