/**
 * The repository's own TypeScript modules and the imports between them, read from the source text, for
 * the structure tests: file sizes, layering, import cycles and what each Lambda bundle may contain.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folders holding source code (tests themselves are not source: they may be long tables of cases). */
export const SOURCE_FOLDERS = ['bin', 'lib', 'lambdas', 'bench', 'test/helpers', 'test/fakes', 'test/setup'];

/** One import of one module. */
export interface ImportEdge {
  /** Repository-relative path of the imported module. */
  target: string;
  /** `import type` / `export type`: erased at run time. */
  typeOnly: boolean;
}

const ALIASES: Record<string, string> = { '#shared/': 'lambdas/shared/', '#lib/': 'lib/', '#test/': 'test/' };
const STATIC_IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every `.ts` file under the source folders, repository-relative, tests excluded. */
export function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true })) {
      const path = `${folder}/${entry.name}`;
      // Nested packages (the bench's peer gateway, installed by `npm run bench`) are not our source.
      if (entry.isDirectory() && entry.name === 'node_modules') continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
    }
  };
  for (const folder of SOURCE_FOLDERS) if (existsSync(join(ROOT, folder))) walk(folder);
  return out.sort();
}

/** A module's text. */
export function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** The repository module a specifier names, or undefined for a package. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  const alias = Object.keys(ALIASES).find((prefix) => specifier.startsWith(prefix));
  if (alias !== undefined) return `${ALIASES[alias]}${specifier.slice(alias.length)}`;
  if (!specifier.startsWith('.')) return undefined;
  return relative(ROOT, resolve(ROOT, dirname(from), specifier))
    .split('\\')
    .join('/');
}

/** The repository modules a file imports, statically or dynamically. */
export function importsOf(path: string): ImportEdge[] {
  const text = read(path);
  const edges: ImportEdge[] = [];
  for (const match of text.matchAll(STATIC_IMPORT)) {
    const target = resolveSpecifier(path, match[3] ?? '');
    if (target !== undefined) edges.push({ target, typeOnly: match[2] !== undefined });
  }
  for (const match of text.matchAll(DYNAMIC_IMPORT)) {
    const target = resolveSpecifier(path, match[1] ?? '');
    if (target !== undefined) edges.push({ target, typeOnly: false });
  }
  return edges;
}

/** The import graph of the source files. */
export function importGraph(files: readonly string[] = sourceFiles()): Map<string, ImportEdge[]> {
  return new Map(files.map((file) => [file, importsOf(file)]));
}

/** The modules reachable from `entry` through imports that survive compilation. */
export function runtimeReach(graph: Map<string, ImportEdge[]>, entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop() ?? '';
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of graph.get(file) ?? []) if (!edge.typeOnly) stack.push(edge.target);
  }
  return seen;
}

/** Every import cycle (strongly connected component of more than one module, or a self-import). */
export function importCycles(graph: Map<string, ImportEdge[]>): string[][] {
  // Tarjan's algorithm, iterative enough for a few hundred modules.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const { target } of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (!indices.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) ?? 0, indices.get(target) ?? 0));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member !== undefined) {
          onStack.delete(member);
          component.push(member);
        }
      } while (member !== undefined && member !== node);
      const selfImport = (graph.get(node) ?? []).some((edge) => edge.target === node);
      if (component.length > 1 || selfImport) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}
