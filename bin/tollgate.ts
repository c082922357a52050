#!/usr/bin/env node
/** CLI entry: `npx tollgate …`. Runs on Node >= 22 (the project pins Node 24 for npm scripts and npx). */
import { main } from '#lib/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
