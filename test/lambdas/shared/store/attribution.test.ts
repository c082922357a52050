/** Every administrative write is attributed: a store without an actor refuses to change anything. */
import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyring } from '#shared/crypto/keyrings.ts';
import { UnattributedWriteError } from '#shared/store/attribution.ts';
import { KeyStore } from '#shared/store/keys.ts';
import { ProviderStore } from '#shared/store/providers.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import { TeamStore } from '#shared/store/teams.ts';
import { setupLocalEnv } from '../../../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;

beforeAll(async () => {
  env = await setupLocalEnv();
});

describe('attribution', () => {
  it('refuses writes without an actor and changes nothing', async () => {
    // Prepare
    const db = documentClient();
    const keys = new KeyStore(db, env.state.tables.keys, 'sk-tg-');
    const teams = new TeamStore(db, env.state.tables.teams);
    const providers = new ProviderStore(db, env.state.tables.providers, new LocalKeyring(randomBytes(32)));
    const existing = await env.stores.keys.create({ name: 'attributed' });

    // Act + Assess
    await expect(keys.create({ name: 'anonymous' })).rejects.toBeInstanceOf(UnattributedWriteError);
    await expect(keys.setStatus(existing.key.keyId, 'disabled')).rejects.toBeInstanceOf(
      UnattributedWriteError,
    );
    await expect(keys.delete(existing.key.keyId)).rejects.toBeInstanceOf(UnattributedWriteError);
    await expect(teams.create('anonymous')).rejects.toBeInstanceOf(UnattributedWriteError);
    await expect(
      providers.add({ name: 'anon', type: 'openai', baseUrl: 'https://api.openai.com/v1' }, { secret: 'x' }),
    ).rejects.toBeInstanceOf(UnattributedWriteError);
    expect((await env.stores.keys.list()).map((k) => k.name)).toEqual(['attributed']);
    expect((await env.stores.keys.get(existing.key.keyId))?.status).toBe('active');
  });

  it('stamps every item with who changed it, when and how', async () => {
    const { key } = await env.stores.keys.create({ name: 'stamped' });
    const out = await documentClient().send(
      new GetCommand({ TableName: env.state.tables.keys, Key: { keyId: key.keyId } }),
    );
    expect(out.Item?.lastChange).toEqual({
      actor: 'local:test-suite',
      action: 'key.create',
      changeId: expect.any(String),
      at: expect.any(String),
    });
  });
});
