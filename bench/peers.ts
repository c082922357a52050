/**
 * The gateways the bench runs as separate processes on 127.0.0.1 — `tollgate dev` and Portkey's gateway
 * (installed on demand into bench/node_modules from bench/package.json, pinned) — and what the bench reads
 * about a process from /proc: CPU time and resident memory.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../lib/local/dynamodb-local.ts';

/** Where the peers are installed: a package of their own, kept out of the main install. */
const PEERS_DIR = join(import.meta.dirname, 'peers');

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

/**
 * The Node the peer runs on: the system's (Node 20 here) when there is one. Portkey 1.15.2 appends headers
 * to the upstream's Response, which Node 24's fetch makes immutable, so its streams fail with a 500 there.
 */
function peerNode(): string {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node'])
    if (existsSync(candidate)) return candidate;
  return process.execPath;
}

/** A running Portkey gateway. */
export interface Portkey {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Installs the pinned Portkey gateway when missing and starts it; undefined when it cannot be had. */
export async function startPortkey(): Promise<Portkey | undefined> {
  const entry = join(PEERS_DIR, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (!existsSync(entry)) {
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', PEERS_DIR], {
      stdio: 'ignore',
      timeout: 300_000,
    });
    if (install.status !== 0 || !existsSync(entry)) return undefined;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    peerNode(),
    [join(PEERS_DIR, 'portkey-server.mjs'), `--port=${port}`, '--headless'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    if (process.env.BENCH_DEBUG) process.stderr.write(c);
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    if (process.env.BENCH_DEBUG) process.stderr.write(c);
    output += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Portkey did not start: ${output.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
