/**
 * CORS for browser clients: the headers a response to an allowed origin carries and the request headers a
 * preflight admits. Kept apart from the proxy so the CDK app, which builds preflight answers from it, does
 * not load the proxy's code.
 */

/** CORS headers for an allowed origin; shared with the preflight answers in front of the proxy. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    vary: 'origin',
    'access-control-expose-headers':
      'x-request-id, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset',
  };
}

/** The request headers browsers may send, for preflight answers. */
export const CORS_ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-goog-api-key',
  'anthropic-version',
  'anthropic-beta',
  'x-tollgate-project',
];
