/**
 * Headless Chromium from the npm registry: `@sparticuz/chromium` ships a Chromium build brotli-compressed
 * inside the package, with the NSS libraries it links against and fonts, so the browser tests need nothing
 * from the system and download nothing. It is unpacked once per install into `node_modules/.cache`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflate } from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.resolve('@sparticuz/chromium'))), '..');
const CACHE_ROOT = fileURLToPath(new URL('../../node_modules/.cache/tollgate-chromium/', import.meta.url));
const ARCHIVES = ['chromium.br', 'al2023.tar.br', 'fonts.tar.br'];

/** The unpacked browser folder for the installed package version, unpacking it the first time. */
async function unpacked(): Promise<string> {
  const { version } = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
    version: string;
  };
  const target = join(CACHE_ROOT, version);
  if (existsSync(join(target, 'chromium'))) return target;
  mkdirSync(CACHE_ROOT, { recursive: true });
  // The package unpacks into the OS temporary folder; pointing that at a private staging folder and
  // renaming it when complete means a concurrent run never sees a half-written browser.
  const staging = mkdtempSync(join(CACHE_ROOT, 'staging-'));
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  try {
    await Promise.all(ARCHIVES.map((archive) => inflate(join(PACKAGE_DIR, 'bin', archive))));
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  }
  try {
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, 'chromium'))) throw err;
  }
  return target;
}

/**
 * Launches the packaged Chromium headless. Background networking is off: this machine's network is closed
 * and a test must not depend on any host but the ones it starts.
 */
export async function launchChromium(): Promise<Browser> {
  const folder = await unpacked();
  return chromium.launch({
    executablePath: join(folder, 'chromium'),
    env: {
      ...process.env,
      LD_LIBRARY_PATH: join(folder, 'al2023', 'lib'),
      FONTCONFIG_PATH: join(folder, 'fonts'),
    },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
