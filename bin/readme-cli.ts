#!/usr/bin/env node
/** `npm run readme:cli`: rewrites the README's CLI table from the command table (lib/cli/commands.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { README_CLI_MARKERS, readmeTable } from '#lib/cli/help.ts';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const [start, end] = README_CLI_MARKERS;
const from = readme.indexOf(start);
const to = readme.indexOf(end);
if (from < 0 || to < from) throw new Error(`README.md lacks the markers ${start} … ${end}`);
writeFileSync(path, `${readme.slice(0, from + start.length)}\n${readmeTable()}\n${readme.slice(to)}`);
