/**
 * The codebase's shape, checked like behaviour: files a reader can hold in mind, layers that point one way,
 * no import cycles, and functions that take a context object rather than a long parameter list.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, importsOf, ROOT, read, sourceFiles } from './helpers/source-graph.ts';

const MAX_LINES = 300;
/** The words that, in a file's opening comment, give the reason it is longer. */
const LONG_FILE_REASON = /over 300 lines/i;

/** The file's opening block comment, if it starts with one. */
function openingComment(text: string): string {
  const match = /^\s*\/\*[\s\S]*?\*\//.exec(text);
  return match?.[0] ?? '';
}

describe('source files', () => {
  it(`stay under ${MAX_LINES} lines, or say in their opening comment why not`, () => {
    // Prepare
    const files = sourceFiles();

    // Act
    const tooLong = files.flatMap((file) => {
      const text = read(file);
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      if (lines <= MAX_LINES || LONG_FILE_REASON.test(openingComment(text))) return [];
      return [
        `${file} has ${lines} lines (limit ${MAX_LINES}): split it by job into modules a newcomer would guess, ` +
          `or give the reason it must stay whole in its opening comment ("Over 300 lines because …").`,
      ];
    });

    // Assess
    expect(files.length).toBeGreaterThan(50);
    expect(tooLong).toEqual([]);
  });

  it('take at most four positional parameters per function (Biome useMaxParams)', () => {
    // Prepare
    const args = [
      'lint',
      '--only=complexity/useMaxParams',
      '--max-diagnostics=none',
      '--reporter=github',
      '.',
    ];

    // Act
    let output = '';
    try {
      output = execFileSync(`${ROOT}node_modules/.bin/biome`, args, { cwd: ROOT, encoding: 'utf8' });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    const offenders = output
      .split('\n')
      .filter((line) => line.includes('useMaxParams'))
      .map(
        (line) => `${line.replace(/^::\w+ /, '')} — pass one context object instead of positional parameters`,
      );

    // Assess
    expect(offenders).toEqual([]);
  });
});

describe('layers', () => {
  const graph = importGraph();
  const edges = [...graph].flatMap(([file, imports]) => imports.map((edge) => ({ file, ...edge })));

  it('keep lambdas/ free of lib/ (the Lambdas ship without the CDK app and the CLI)', () => {
    const wrong = edges.filter((e) => e.file.startsWith('lambdas/') && e.target.startsWith('lib/'));
    expect(
      wrong.map((e) => `${e.file} imports ${e.target}: move what both need into lambdas/shared/`),
    ).toEqual([]);
  });

  it('keep lib/ free of bin/ (bin/ holds entry points only)', () => {
    const wrong = edges.filter((e) => e.file.startsWith('lib/') && e.target.startsWith('bin/'));
    expect(
      wrong.map((e) => `${e.file} imports ${e.target}: move the shared code from bin/ into lib/`),
    ).toEqual([]);
  });

  it('import only modules that exist', () => {
    const files = new Set(sourceFiles());
    const missing = edges.filter((e) => !files.has(e.target) && !e.target.endsWith('.test.ts'));
    expect(missing.map((e) => `${e.file} imports ${e.target}, which is not a source file`)).toEqual([]);
  });

  it('have no import cycle, type imports included', () => {
    // Act
    const cycles = importCycles(graph);

    // Assess
    expect(
      cycles.map(
        (cycle) => `import cycle: ${cycle.join(' → ')}: move what they share into a module of its own`,
      ),
    ).toEqual([]);
  });
});

describe('the structure checks themselves', () => {
  it('find a planted import cycle, type imports included', () => {
    // Prepare
    const graph = new Map([
      ['a.ts', [{ target: 'b.ts', typeOnly: false }]],
      ['b.ts', [{ target: 'c.ts', typeOnly: true }]],
      ['c.ts', [{ target: 'a.ts', typeOnly: false }]],
      ['d.ts', [{ target: 'a.ts', typeOnly: false }]],
    ]);

    // Act
    const cycles = importCycles(graph);

    // Assess
    expect(cycles).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('read static, type-only, re-exported and dynamic imports, through the # aliases', () => {
    // Act
    const gateway = importsOf('lib/local/gateway.ts');
    const proxy = importsOf('lambdas/shared/proxy/index.ts');

    // Assess
    expect(gateway).toContainEqual({ target: 'lambdas/shared/routes.ts', typeOnly: false });
    expect(gateway).toContainEqual({ target: 'lambdas/authorizer/handler.ts', typeOnly: false });
    expect(proxy).toContainEqual({ target: 'lambdas/shared/proxy/context.ts', typeOnly: true });
  });
});

describe('unit tests', () => {
  /** Imports that start or need DynamoDB Local, Java or the CLI against local storage. */
  const INTEGRATION_ONLY = [
    'test/helpers/local-env.ts',
    'test/helpers/run-cli.ts',
    'test/helpers/dev-process.ts',
  ];

  it('need no DynamoDB Local: no *.unit.test.ts uses the integration helpers', () => {
    // Prepare
    const unitTests = (readdirSync(`${ROOT}test`, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((path) => path.endsWith('.unit.test.ts'))
      .map((path) => `test/${path.split('\\').join('/')}`);

    // Act
    const offenders = unitTests.flatMap((file) => [
      ...importsOf(file)
        .filter((edge) => INTEGRATION_ONLY.includes(edge.target))
        .map(
          (edge) => `${file} imports ${edge.target}: name it *.test.ts (integration) or drop the dependency`,
        ),
      ...(/\binject\(/.test(read(file))
        ? [`${file} injects the run's DynamoDB Local: name it *.test.ts (integration)`]
        : []),
    ]);

    // Assess
    expect(unitTests.length).toBeGreaterThan(5);
    expect(offenders).toEqual([]);
  });
});
