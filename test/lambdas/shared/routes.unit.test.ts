/** The route table: matching, exact before greedy, one route per method and path. */
import { describe, expect, it } from 'vitest';
import { matchRoute, ROUTES, routeForResource } from '#shared/routes.ts';

describe('matchRoute', () => {
  it('matches an exact path and a greedy parameter', () => {
    // Act
    const chat = matchRoute('post', '/v1/chat/completions');
    const gemini = matchRoute('POST', '/v1beta/models/gemini-2.5-flash:generateContent');

    // Assess
    expect('route' in chat && chat.route.operation).toBe('chatCompletions');
    expect(gemini).toMatchObject({
      route: { operation: 'geminiModel' },
      params: { model: 'gemini-2.5-flash:generateContent' },
    });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(matchRoute('GET', '/v1/chat/completions')).toEqual({ error: 'method_not_allowed' });
    expect(matchRoute('GET', '/v2/nothing')).toEqual({ error: 'not_found' });
    expect(matchRoute('POST', '/v1beta/models/')).toEqual({ error: 'not_found' });
  });
});

describe('routeForResource', () => {
  it('finds the route API Gateway named, by method', () => {
    expect(routeForResource('get', '/v1/models')?.operation).toBe('models');
    expect(routeForResource('POST', '/v1/models')).toBeUndefined();
  });
});

describe('the table', () => {
  it('has one route per method and path', () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
