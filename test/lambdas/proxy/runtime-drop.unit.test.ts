/** Which unhandled rejections the proxy tolerates: only a dropped Runtime API connection. */
import { describe, expect, it } from 'vitest';
import { isDroppedRuntimeConnection } from '../../../lambdas/proxy/runtime-drop.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDroppedRuntimeConnection', () => {
  it('is true for the errors of a connection the service dropped', () => {
    expect(isDroppedRuntimeConnection(withCode('socket hang up', 'ECONNRESET'))).toBe(true);
    expect(isDroppedRuntimeConnection(withCode('write EPIPE', 'EPIPE'))).toBe(true);
  });

  it('is false for anything else, which still ends the process', () => {
    expect(isDroppedRuntimeConnection(new TypeError('x is not a function'))).toBe(false);
    expect(isDroppedRuntimeConnection(withCode('connect refused', 'ECONNREFUSED'))).toBe(false);
    expect(isDroppedRuntimeConnection('socket hang up')).toBe(false);
  });
});
