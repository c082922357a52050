/** The environment contract: defaults, validation that names the variable, and values never echoed. */
import { describe, expect, it } from 'vitest';
import { ENV, EnvError, readEnv, requireEnv } from '#shared/env.ts';

describe('readEnv', () => {
  it('fills every optional setting with its default on an empty environment', () => {
    // Act
    const env = readEnv({});

    // Assess
    expect(env.keyPrefix).toBe('sk-tg-');
    expect(env.maxBodyBytes).toBe(1024 * 1024);
    expect(env.corsOrigins).toEqual([]);
    expect(env.keysTable).toBeUndefined();
  });

  it('reads table names, numbers and the comma-separated CORS origins', () => {
    // Prepare
    const source = {
      [ENV.keysTable]: 'keys',
      [ENV.heartbeatMs]: '250',
      [ENV.corsOrigins]: ' https://a.example , ,https://b.example',
    };

    // Act
    const env = readEnv(source);

    // Assess
    expect(env.keysTable).toBe('keys');
    expect(env.heartbeatMs).toBe(250);
    expect(env.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it.each(['-1', '1.5', 'ten'])('refuses %j for a number, naming the variable but not the value', (value) => {
    // Act
    const read = () => readEnv({ [ENV.idleTimeoutMs]: value });

    // Assess
    expect(read).toThrow(EnvError);
    expect(read).toThrow(`${ENV.idleTimeoutMs} must be a non-negative integer`);
  });
});

describe('requireEnv', () => {
  it('returns a set value and names a missing one', () => {
    // Prepare
    const env = readEnv({ [ENV.keysTable]: 'keys' });

    // Act / Assess
    expect(requireEnv(env, 'keysTable')).toBe('keys');
    expect(() => requireEnv(env, 'auditTable')).toThrow(`${ENV.auditTable} is required but not set`);
  });
});
