/**
 * The `tollgate` CLI in-process against DynamoDB Local: a `runtime.json` names this test process as the
 * running gateway, so the CLI uses the run's DynamoDB Local exactly as it would a running `tollgate dev`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { COMMAND_HELP } from '../../../lib/cli/help.ts';
import { openLocalState, writeRuntime } from '../../../lib/local/state.ts';
import { colourOn, withSpinner } from '../../../lib/terminal.ts';
import { startFakeOpenAI } from '../../fakes/openai-upstream.ts';
import { runCli } from '../../helpers/run-cli.ts';

const run = runCli;

beforeAll(() => {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  process.env.TOLLGATE_HOME = home;
  writeRuntime(openLocalState(home), {
    pid: process.pid,
    gatewayUrl: 'http://127.0.0.1:1',
    dynamoEndpoint: inject('dynamoEndpoint'),
    startedAt: new Date().toISOString(),
  });
});

afterEach(() => {
  delete process.env.TEST_UPSTREAM_KEY;
});

describe('tollgate keys', () => {
  it('creates a key and shows the plaintext once, in JSON with id and key', async () => {
    // Act
    const created = await run(
      'keys',
      'create',
      '--name',
      'ci',
      '--models',
      'openai/gpt-4o, openai/*',
      '--json',
    );
    const listed = await run('keys', 'list', '--json');

    // Assess
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout) as { id: string; key: string; models: string[]; status: string };
    expect(body.key).toMatch(new RegExp(`^sk-tg-${body.id}_`));
    expect(body.models).toEqual(['openai/gpt-4o', 'openai/*']);
    expect(body.status).toBe('active');
    expect(listed.stdout).toContain(body.id);
    expect(listed.stdout).not.toContain(body.key);
    expect(listed.stdout).not.toContain('keyHash');
  });

  it('disables, enables, rotates and deletes by id', async () => {
    // Prepare
    const { id, key } = JSON.parse((await run('keys', 'create', '--name', 'life', '--json')).stdout) as {
      id: string;
      key: string;
    };

    // Act + Assess
    expect(JSON.parse((await run('keys', 'disable', id, '--json', '--yes')).stdout).status).toBe('disabled');
    expect(JSON.parse((await run('keys', 'enable', id, '--json')).stdout).status).toBe('active');
    const rotated = JSON.parse((await run('keys', 'rotate', id, '--json', '--yes')).stdout) as {
      id: string;
      key: string;
    };
    expect(rotated.id).toBe(id);
    expect(rotated.key).not.toBe(key);
    expect((await run('keys', 'show', id)).stdout).toContain('life');
    expect((await run('keys', 'delete', id, '--yes')).code).toBe(0);
    const gone = await run('keys', 'show', id);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`tollgate: key '${id}' not found\n`);
  });

  it('prints the human form with a warning that the key is shown once', async () => {
    const created = await run('keys', 'create', '--name', 'human');
    expect(created.stdout).toMatch(/sk-tg-\w{12}_\w{38}/);
    expect(created.stdout).toContain('only time the key is shown');
  });

  it('answers usage mistakes with one line and exit code 2', async () => {
    const noName = await run('keys', 'create');
    expect(noName.code).toBe(2);
    expect(noName.stderr.split('\n')[0]).toBe('tollgate: keys create needs --name NAME');
    const badFlag = await run('keys', 'list', '--bogus');
    expect(badFlag.code).toBe(2);
    const badDate = await run('keys', 'create', '--name', 'x', '--expires', 'someday');
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--expires');
  });
});

describe('tollgate providers', () => {
  it('adds a provider from an environment variable, lists it and removes it', async () => {
    // Prepare
    process.env.TEST_UPSTREAM_KEY = 'sk-upstream-cli-secret';

    // Act
    const added = await run(
      'providers',
      'add',
      'acme',
      '--type',
      'openai-compatible',
      '--base-url',
      'http://127.0.0.1:9/v1/',
      '--key-env',
      'TEST_UPSTREAM_KEY',
      '--json',
    );
    const listed = await run('providers', 'list', '--json');
    const duplicate = await run(
      'providers',
      'add',
      'acme',
      '--type',
      'openai',
      '--base-url',
      'https://x.example/v1',
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );
    const removed = await run('providers', 'remove', 'acme', '--json', '--yes');

    // Assess
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      provider: 'acme',
      type: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:9/v1',
      credentials: 1,
    });
    expect(listed.stdout).toContain('"acme"');
    expect(`${added.stdout}${listed.stdout}`).not.toContain('sk-upstream-cli-secret');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toBe("tollgate: provider 'acme' already exists\n");
    expect(removed.code).toBe(0);
    expect((await run('providers', 'list', '--json')).stdout).not.toContain('"acme"');
  });

  it('refuses bad input with one clear line', async () => {
    process.env.TEST_UPSTREAM_KEY = 'x';
    const badType = await run(
      'providers',
      'add',
      'p1',
      '--type',
      'nope',
      '--base-url',
      'https://x.example',
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );
    expect(badType.stderr).toBe("tollgate: unknown provider type 'nope'\n");
    const badUrl = await run(
      'providers',
      'add',
      'p2',
      '--type',
      'openai',
      '--base-url',
      'ftp://x',
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );
    expect(badUrl.stderr).toBe('tollgate: base URL must be http or https\n');
    const noKey = await run('providers', 'add', 'p3', '--type', 'openai', '--base-url', 'https://x.example');
    expect(noKey.code).toBe(2);
    const emptyEnv = await run(
      'providers',
      'add',
      'p4',
      '--type',
      'openai',
      '--base-url',
      'https://x.example',
      '--key-env',
      'UNSET_VARIABLE_X',
    );
    expect(emptyEnv.stderr.split('\n')[0]).toBe(
      'tollgate: environment variable UNSET_VARIABLE_X is empty or unset',
    );
    const missing = await run('providers', 'remove', 'ghost', '--yes');
    expect(missing.stderr).toBe("tollgate: provider 'ghost' not found\n");
  });
});

describe('tollgate providers credentials and aliases', () => {
  it('adds credentials with priority, refuses duplicates, lists them without values and removes one', async () => {
    // Prepare
    process.env.TEST_UPSTREAM_KEY = 'sk-cred-one';
    await run(
      'providers',
      'add',
      'multi',
      '--type',
      'anthropic',
      '--base-url',
      'https://api.anthropic.com',
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );
    process.env.TEST_UPSTREAM_KEY = 'sk-cred-two';

    // Act
    const added = await run(
      'providers',
      'credentials',
      'add',
      'multi',
      '--key-env',
      'TEST_UPSTREAM_KEY',
      '--priority',
      '5',
      '--json',
    );
    const duplicate = await run('providers', 'credentials', 'add', 'multi', '--key-env', 'TEST_UPSTREAM_KEY');
    const listed = await run('providers', 'credentials', 'list', 'multi', '--json');
    const id = (JSON.parse(added.stdout) as { id: string }).id;
    const removed = await run('providers', 'credentials', 'remove', 'multi', id, '--yes');
    const after = JSON.parse(
      (await run('providers', 'credentials', 'list', 'multi', '--json')).stdout,
    ) as unknown[];

    // Assess
    expect(JSON.parse(added.stdout)).toMatchObject({ priority: 5, source: 'envelope' });
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('already exists');
    expect((JSON.parse(listed.stdout) as Array<{ priority: number }>).map((c) => c.priority)).toEqual([0, 5]);
    expect(listed.stdout).not.toContain('sk-cred');
    expect(removed.code).toBe(0);
    expect(after).toHaveLength(1);
  });

  it('refuses Secrets Manager references locally with a clear message', async () => {
    const result = await run(
      'providers',
      'credentials',
      'add',
      'multi',
      '--secret-arn',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf',
    );
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'tollgate: Secrets Manager references work only on a deployed stack; locally use --key-stdin, --key-env or --key-file',
    );
  });

  it('sets, lists and removes aliases', async () => {
    const set = await run(
      'aliases',
      'set',
      'auto',
      '--targets',
      'multi/claude-sonnet-4.6, other/gpt-4o',
      '--json',
    );
    expect(JSON.parse(set.stdout)).toEqual({
      name: 'auto',
      targets: ['multi/claude-sonnet-4.6', 'other/gpt-4o'],
    });
    expect((await run('aliases', 'list')).stdout).toContain('multi/claude-sonnet-4.6 -> other/gpt-4o');
    const bad = await run('aliases', 'set', 'x', '--targets', 'not-a-slug');
    expect(bad.stderr).toBe("tollgate: alias target 'not-a-slug' is not a provider/model slug\n");
    expect((await run('aliases', 'remove', 'auto', '--yes')).code).toBe(0);
    expect((await run('aliases', 'remove', 'auto', '--yes')).code).toBe(1);
  });
});

describe('tollgate status', () => {
  it('exits 0 when healthy, 2 when a credential expires within 7 days, 1 when a provider has none', async () => {
    // Prepare: start from a clean slate of providers.
    for (const p of JSON.parse((await run('providers', 'list', '--json')).stdout) as Array<{
      provider: string;
    }>) {
      await run('providers', 'remove', p.provider, '--yes');
    }
    process.env.TEST_UPSTREAM_KEY = 'sk-status-one';
    await run(
      'providers',
      'add',
      'st',
      '--type',
      'openai',
      '--base-url',
      'https://api.openai.com/v1',
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );

    // Act + Assess
    expect((await run('status')).code).toBe(0);
    process.env.TEST_UPSTREAM_KEY = 'sk-status-two';
    const soon = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    await run('providers', 'credentials', 'add', 'st', '--key-env', 'TEST_UPSTREAM_KEY', '--expires', soon);
    const expiring = await run('status', '--json');
    expect(expiring.code).toBe(2);
    expect(JSON.parse(expiring.stdout)).toMatchObject({
      exitCode: 2,
      providers: [{ provider: 'st', state: 'expiring' }],
    });
    for (const c of JSON.parse(
      (await run('providers', 'credentials', 'list', 'st', '--json')).stdout,
    ) as Array<{ id: string }>) {
      await run('providers', 'credentials', 'remove', 'st', c.id, '--yes');
    }
    const none = await run('status');
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('no_working_credential');
    await run('providers', 'remove', 'st', '--yes');
  });

  it('probes credentials live with --check', async () => {
    // Prepare
    const fake = await startFakeOpenAI('sk-probe-good');
    process.env.TEST_UPSTREAM_KEY = 'sk-probe-good';
    await run(
      'providers',
      'add',
      'probe',
      '--type',
      'openai',
      '--base-url',
      fake.baseUrl,
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );

    // Act
    const good = await run('status', '--check', '--json');
    process.env.TEST_UPSTREAM_KEY = 'sk-probe-bad';
    await run(
      'providers',
      'add',
      'probe-bad',
      '--type',
      'openai',
      '--base-url',
      fake.baseUrl,
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );
    const bad = await run('status', '--check', '--json');
    await fake.close();

    // Assess
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout).providers[0].credentials[0].check).toBe('ok');
    expect(bad.code).toBe(1);
    const states = (JSON.parse(bad.stdout) as { providers: Array<{ provider: string; state: string }> })
      .providers;
    expect(states.find((p) => p.provider === 'probe-bad')?.state).toBe('no_working_credential');
    expect(fake.requests.every((r) => r.method === 'GET' && r.path === '/v1/models')).toBe(true);
  });
});

describe('tollgate teams, key limits, import, prices and usage', () => {
  it('creates a team with a budget and keys in it with limits; disables, enables and refuses to delete a team with keys', async () => {
    // Act
    const team = JSON.parse(
      (await run('teams', 'create', '--name', 'platform', '--budget', '250', '--json')).stdout,
    ) as { id: string; budgetUsd: number };
    const key = JSON.parse(
      (
        await run(
          'keys',
          'create',
          '--name',
          'svc',
          '--team',
          team.id,
          '--monthly-limit',
          '12.5',
          '--rpm',
          '30',
          '--tpm',
          '40000',
          '--json',
        )
      ).stdout,
    ) as { id: string; teamId: string; monthlyLimitUsd: number; rpm: number; tpm: number };
    const unknownTeam = await run('keys', 'create', '--name', 'x', '--team', 'team_nope');
    const badLimit = await run('keys', 'create', '--name', 'x', '--rpm', 'lots');
    const disabled = JSON.parse((await run('teams', 'disable', team.id, '--json', '--yes')).stdout) as {
      status: string;
    };
    const enabled = JSON.parse((await run('teams', 'enable', team.id, '--json')).stdout) as {
      status: string;
    };
    const shown = JSON.parse((await run('teams', 'show', team.id, '--json')).stdout) as {
      keys: string[];
    };
    const refusedDelete = await run('teams', 'delete', team.id, '--yes');
    await run('keys', 'delete', key.id, '--yes');
    const deleted = await run('teams', 'delete', team.id, '--yes');

    // Assess
    expect(team.budgetUsd).toBe(250);
    expect(key).toMatchObject({ teamId: team.id, monthlyLimitUsd: 12.5, rpm: 30, tpm: 40000 });
    expect(unknownTeam.code).toBe(2);
    expect(unknownTeam.stderr.split('\n')[0]).toBe(
      "tollgate: no team 'team_nope' (see 'tollgate teams list')",
    );
    expect(badLimit.stderr.split('\n')[0]).toBe('tollgate: --rpm must be a positive integer');
    expect([disabled.status, enabled.status]).toEqual(['disabled', 'active']);
    expect(shown.keys).toEqual([key.id]);
    expect(refusedDelete.code).toBe(2);
    expect(refusedDelete.stderr).toContain('still has 1 key(s)');
    expect(deleted.code).toBe(0);
  });

  it('updates keys and teams by name, clears limits with --clear-*, and refuses a flag with its --clear twin', async () => {
    // Prepare
    await run('teams', 'create', '--name', 'upd-team', '--budget', '20');
    await run('keys', 'create', '--name', 'upd-key', '--rpm', '10', '--monthly-limit', '5');

    // Act
    const updated = await run(
      'keys',
      'update',
      'upd-key',
      '--models',
      'a/*,b/c',
      '--tpm',
      '900',
      '--clear-rpm',
      '--team',
      'upd-team',
      '--json',
    );
    const cleared = await run('keys', 'update', 'upd-key', '--clear-monthly-limit', '--clear-team', '--json');
    const both = await run('keys', 'update', 'upd-key', '--rpm', '3', '--clear-rpm');
    const nothing = await run('keys', 'update', 'upd-key');
    const badRpm = await run('keys', 'update', 'upd-key', '--rpm', '-1');
    const team = await run(
      'teams',
      'update',
      'upd-team',
      '--budget',
      '75',
      '--name',
      'upd-renamed',
      '--json',
    );
    const noBudget = await run('teams', 'update', 'upd-renamed', '--clear-budget', '--json');
    const shown = await run('teams', 'show', 'upd-renamed', '--json');

    // Assess
    const key = JSON.parse(updated.stdout) as Record<string, unknown>;
    expect(key).toMatchObject({
      name: 'upd-key',
      models: ['a/*', 'b/c'],
      tpm: 900,
      monthlyLimitUsd: 5,
    });
    expect(key).not.toHaveProperty('rpm');
    expect(key.teamId).toMatch(/^team_/);
    const after = JSON.parse(cleared.stdout) as Record<string, unknown>;
    expect(after).not.toHaveProperty('monthlyLimitUsd');
    expect(after).not.toHaveProperty('teamId');
    expect(after).toMatchObject({ tpm: 900 });
    expect(both.code).toBe(2);
    expect(both.stderr.split('\n')[0]).toBe('tollgate: give --rpm or --clear-rpm, not both');
    expect(nothing.code).toBe(2);
    expect(nothing.stderr.split('\n')[0]).toBe('tollgate: nothing to change: give at least one field');
    expect(badRpm.stderr.split('\n')[0]).toBe('tollgate: --rpm must be a positive integer');
    expect(JSON.parse(team.stdout)).toMatchObject({ name: 'upd-renamed', budgetUsd: 75 });
    expect(JSON.parse(noBudget.stdout)).not.toHaveProperty('budgetUsd');
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'upd-renamed', keys: [] });
  });

  it('rotates with a grace period and says until when the old secret works', async () => {
    const { id } = JSON.parse((await run('keys', 'create', '--name', 'graceful', '--json')).stdout) as {
      id: string;
    };
    const rotated = await run('keys', 'rotate', id, '--grace', '2h', '--yes');
    expect(rotated.stdout).toMatch(/previous secret keeps working until \d{4}-\d{2}-\d{2}T/);
    expect((await run('keys', 'rotate', id, '--grace', 'soon', '--yes')).stderr.split('\n')[0]).toBe(
      "tollgate: --grace 'soon' is not a duration (e.g. 30m, 2h, 7d)",
    );
  });

  it('imports a mixed ring all or nothing, idempotently, and --sync makes the imported set equal to the file', async () => {
    // Prepare: commas and newlines, labelled and raw hex, a comment, and one malformed entry.
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-import-'));
    const hash = (s: string) => createHash('sha256').update(s).digest('hex');
    const [h1, h2, h3, h4, h5] = ['k1', 'k2', 'k3', 'k4', 'k5'].map(hash) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const bad = file(
      'bad.txt',
      `# issued by the old gateway\nci-runner:${h1},${h2}\n${h3.toUpperCase()}\n batch:${h4} , nothinghex\n`,
    );
    const good = file(
      'good.txt',
      `# issued by the old gateway\nci-runner:${h1},${h2}\n${h3.toUpperCase()}\n batch:${h4}\n`,
    );
    const smaller = file('smaller.txt', `ci-runner:${h1}\nbatch:${h4}\nnew:${h5}\n`);
    const importedNames = async () =>
      (
        JSON.parse((await run('keys', 'list', '--json')).stdout) as Array<{
          name: string;
          imported?: boolean;
        }>
      )
        .filter((k) => k.imported === true)
        .map((k) => k.name)
        .sort();

    // Act
    const refused = await run('keys', 'import', bad, '--rpm', '10');
    const afterRefusal = await importedNames();
    const imported = await run('keys', 'import', good, '--rpm', '10', '--json');
    const again = await run('keys', 'import', good, '--json');
    const synced = await run('keys', 'import', smaller, '--sync', '--yes');

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toBe(
      `tollgate: ${bad}:4:${` batch:${h4} , `.length + 1}: 'nothinghex' is not a SHA-256 hex or label:sha256hex`,
    );
    expect(afterRefusal).toEqual([]);
    const added = (
      JSON.parse(imported.stdout) as { added: Array<{ name: string; imported: boolean; rpm: number }> }
    ).added;
    expect(added.map((k) => [k.name, k.imported, k.rpm])).toEqual([
      ['ci-runner', true, 10],
      ['key-2', true, 10],
      ['key-3', true, 10],
      ['batch', true, 10],
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: [], removed: [] });
    expect((JSON.parse(again.stdout) as { kept: string[] }).kept).toHaveLength(4);
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/^\+ \w{12} \(new\)$/m);
    expect(synced.stdout).toMatch(/^- \w{12} \(key-2\)$/m);
    expect(synced.stdout).toMatch(/^- \w{12} \(key-3\)$/m);
    expect(await importedNames()).toEqual(['batch', 'ci-runner', 'new']);
    expect((await run('keys', 'list', '--json')).stdout).not.toContain(h1);
  });

  it('sets model prices and reports usage by key, team and request', async () => {
    // Prepare
    process.env.TEST_UPSTREAM_KEY = 'sk-price-test';
    await run(
      'providers',
      'add',
      'priced',
      '--type',
      'openai',
      '--base-url',
      'https://api.openai.com/v1',
      '--key-env',
      'TEST_UPSTREAM_KEY',
    );

    // Act
    const price = await run('models', 'price', 'priced/gpt-4o', '--input', '2.5', '--output', '10', '--json');
    const badPrice = await run('models', 'price', 'priced/gpt-4o', '--input', 'free', '--output', '1');
    const noSlug = await run('models', 'price', 'gpt-4o', '--input', '1', '--output', '1');
    const { id } = JSON.parse((await run('keys', 'create', '--name', 'usage-cli', '--json')).stdout) as {
      id: string;
    };
    const usage = await run('usage', '--key', id, '--json');
    const missing = await run('usage', '--request', 'no-such-request');

    // Assess
    expect(JSON.parse(price.stdout)).toEqual({
      model: 'priced/gpt-4o',
      inputPerMTok: 2.5,
      outputPerMTok: 10,
    });
    expect(badPrice.code).toBe(2);
    expect(noSlug.stderr.split('\n')[0]).toBe('tollgate: models price needs PROVIDER/MODEL');
    expect(JSON.parse(usage.stdout)).toMatchObject({ keys: [{ id, spentUsd: 0, days: [] }] });
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe("tollgate: no request 'no-such-request' in the request log");
  });
});

describe('CLI manners', () => {
  it.each(Object.keys(COMMAND_HELP))('shows help with examples for %s', async (command) => {
    const viaFlag = await run(command, '--help');
    const viaHelp = await run('help', command);
    expect(viaFlag.code).toBe(0);
    expect(viaFlag.stdout).toMatch(/Examples?:/);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it('uses colour only on a terminal and never with NO_COLOR', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    expect(colourOn(tty, {})).toBe(true);
    expect(colourOn(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourOn(pipe, {})).toBe(false);
  });

  it('shows a spinner only on a terminal', async () => {
    let written = '';
    const pipe = {
      isTTY: false,
      write: (s: string) => {
        written += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    expect(await withSpinner('Working', async () => 42, pipe)).toBe(42);
    expect(written).toBe('Working…\n');
  });
});

describe('tollgate teams shards', () => {
  it('takes the team by name, answers the shown team, and refuses a count out of range before storage', async () => {
    // Prepare
    const created = JSON.parse(
      (await run('teams', 'create', '--name', 'busy-team', '--budget', '500', '--json')).stdout,
    ) as { id: string };

    // Act
    const split = await run('teams', 'shards', 'busy-team', '--count', '8', '--json');
    const human = await run('teams', 'shards', created.id, '--count', '4');
    const tooMany = await run('teams', 'shards', 'busy-team', '--count', '101');
    const missing = await run('teams', 'shards', 'no-such-team', '--count', '2');

    // Assess
    expect(split.code).toBe(0);
    const team = JSON.parse(split.stdout) as Record<string, unknown>;
    expect(team).toMatchObject({ id: created.id, name: 'busy-team', budgetUsd: 500 });
    expect(team.budgetShards).toEqual({
      count: 8,
      previous: 1,
      from: expect.stringMatching(/^\d{4}-\d{2}$/),
    });
    expect(team).not.toHaveProperty('teamId');
    expect(team).not.toHaveProperty('budgetMicros');
    expect(human.stdout).toMatch(
      new RegExp(`^Team ${created.id} will be admitted against 4 shard\\(s\\) from \\d{4}-\\d{2}\\.\\n$`),
    );
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr.split('\n')[0]).toMatch(/^tollgate: --count: the shard count/);
    expect(missing.code).toBe(1);
  });
});

describe('tollgate keys shards', () => {
  it("splits a key by name from next month, shown in keys show, and refuses what the team's refuses", async () => {
    // Prepare
    const created = JSON.parse(
      (await run('keys', 'create', '--name', 'ci-fleet', '--monthly-limit', '80', '--json')).stdout,
    ) as { id: string };

    // Act
    const split = await run('keys', 'shards', 'ci-fleet', '--count', '8', '--json');
    const human = await run('keys', 'shards', created.id, '--count', '4');
    const shown = JSON.parse((await run('keys', 'show', created.id, '--json')).stdout) as Record<
      string,
      unknown
    >;
    const zero = await run('keys', 'shards', 'ci-fleet', '--count', '0');
    const missing = await run('keys', 'shards', 'no-such-key', '--count', '2');

    // Assess: this month stays on 1 counter through both changes; the request count is read over them all.
    expect(split.code).toBe(0);
    expect(JSON.parse(split.stdout)).toMatchObject({
      id: created.id,
      monthlyLimitUsd: 80,
      monthShards: { count: 8, previous: 1, from: expect.stringMatching(/^\d{4}-\d{2}$/), ever: [8] },
    });
    expect(human.stdout).toMatch(
      new RegExp(`^Key ${created.id} will be admitted against 4 shard\\(s\\) from \\d{4}-\\d{2}\\.\\n$`),
    );
    expect(shown).toMatchObject({ monthShards: { count: 4, previous: 1 }, requests: 0, lastUsedAt: null });
    expect(zero.code).toBe(2);
    expect(zero.stderr.split('\n')[0]).toMatch(/^tollgate: --count must be a positive integer/);
    expect(missing.code).toBe(1);
  });
});

describe('names shared by several records', () => {
  it('are refused with every candidate id, and nothing is changed', async () => {
    // Prepare: key names need not be unique, so two keys share one.
    const first = JSON.parse((await run('keys', 'create', '--name', 'cli-twin', '--json')).stdout) as {
      id: string;
    };
    const second = JSON.parse((await run('keys', 'create', '--name', 'cli-twin', '--json')).stdout) as {
      id: string;
    };

    // Act
    const shown = await run('keys', 'show', 'cli-twin');
    const updated = await run('keys', 'update', 'cli-twin', '--rpm', '5', '--json');
    const byId = JSON.parse((await run('keys', 'show', first.id, '--json')).stdout) as Record<
      string,
      unknown
    >;

    // Assess
    expect(shown.code).toBe(1);
    expect(shown.stderr.split('\n')[0]).toBe(
      `tollgate: 2 keys are named 'cli-twin': ${[first.id, second.id].sort().join(', ')}; give the id`,
    );
    expect(updated.code).toBe(1);
    expect(JSON.parse(updated.stdout)).toMatchObject({ error: { code: 'conflict' } });
    expect(byId).not.toHaveProperty('rpm');
  });
});
