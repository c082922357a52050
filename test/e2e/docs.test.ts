/**
 * The OpenAPI document and the docs page, from a running local gateway: the document is valid OpenAPI
 * 3.1 (checked by a validator from npm), covers exactly the routes the gateway serves, and `/docs`
 * renders them in headless Chromium (from npm, see `test/helpers/chromium.ts`, driven by playwright-core)
 * with no network.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '#shared/openapi.ts';
import { ROUTES } from '#shared/routes.ts';
import { REQUEST_SCHEMAS } from '#shared/schemas.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { setupLocalEnv } from '../helpers/local-env.ts';

let gateway: RunningGateway;
let doc: {
  openapi: string;
  paths: Record<
    string,
    Record<string, { security: unknown[]; requestBody?: { content: Record<string, { schema: unknown }> } }>
  >;
};

beforeAll(async () => {
  await setupLocalEnv();
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
  doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as typeof doc;
});

afterAll(async () => {
  await gateway?.close();
});

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('lists exactly the routes the gateway serves, with their auth and the schemas it validates with', () => {
    const served = ROUTES.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`).sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`))
      .sort();
    expect(documented).toEqual(served);
    for (const route of ROUTES) {
      const operation = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(operation?.security.length === 0).toBe(route.auth === 'none');
      expect(operation?.requestBody?.content['application/json']?.schema).toEqual(
        REQUEST_SCHEMAS[route.operation],
      );
    }
  });

  it('is what every documented public route answers, not a 404', async () => {
    for (const route of ROUTES.filter((r) => r.auth === 'none')) {
      // Analytics is published only when the operator turns it on (off here, as by default).
      const expected = route.operation === 'analytics' ? 404 : 200;
      expect((await fetch(`${gateway.url}${route.path}`)).status).toBe(expected);
    }
  });
});

describe('docs page', () => {
  it('renders every route in headless Chromium, with nothing loaded from elsewhere', async () => {
    // Prepare
    const browser = await launchChromium();
    const external: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('request', (request) => {
        if (!request.url().startsWith(gateway.url)) external.push(request.url());
      });

      // Act
      await page.goto(`${gateway.url}/docs`);
      await page.waitForSelector('section.op');
      const rendered = await page.$$eval('section.op', (sections) =>
        sections.map((s) => s.getAttribute('data-path')),
      );
      const title = await page.textContent('#version');

      // Assess
      expect(new Set(rendered)).toEqual(new Set(ROUTES.map((r) => openApiPath(r.path))));
      expect(title).toContain('Tollgate');
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
