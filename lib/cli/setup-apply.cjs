/**
 * Runs on the user's machine, inside the one command `tollgate setup` prints (`node -e`, its source
 * base64-encoded so no shell quoting can break it), with the plan in the TOLLGATE_SETUP environment
 * variable (base64 JSON; the environment, unlike argv, is not readable by other users). It merges Tollgate's
 * settings into the tool's own files: only the entries Tollgate owns change, everything else is kept; a
 * file that changes is first copied to `<file>.tollgate.bak`; a file that would not change is not touched,
 * so running the command twice changes nothing. Files holding the key are the owner's alone (0600; on
 * Windows an ACL for the current user). Plain CommonJS with no dependencies: it runs on any Node.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** `obj` with the value at `keys` set (a null value deletes it), creating objects on the way. */
function assign(obj, keys, value) {
  const [head, ...rest] = keys;
  const base = obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? { ...obj } : {};
  if (rest.length === 0) {
    if (value === null) delete base[head];
    else base[head] = value;
    return base;
  }
  base[head] = assign(base[head], rest, value);
  return base;
}

function mergeJson(text, file) {
  let current = {};
  if (text.trim() !== '') {
    try {
      current = JSON.parse(text);
    } catch {
      throw new Error(`${file.path} is not plain JSON (comments?); merge it by hand or move it away`);
    }
  }
  let next = current;
  for (const [keys, value] of file.set) next = assign(next, keys, value);
  return `${JSON.stringify(next, null, 2)}\n`;
}

const tomlString = (value) => `"${String(value).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/** Sets top-level keys in place (or before the first table) and replaces whole tables, keeping the rest. */
function mergeToml(text, file) {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const header = (line) => /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(line)?.[1];
  const owned = new Set(Object.keys(file.tables));
  const kept = [];
  let skipping = false;
  for (const line of lines) {
    const name = header(line);
    if (name !== undefined) skipping = owned.has(name);
    if (!skipping) kept.push(line);
  }
  while (kept.length > 0 && kept.at(-1).trim() === '') kept.pop();
  const firstTable = kept.findIndex((line) => header(line) !== undefined);
  const top = firstTable === -1 ? kept.length : firstTable;
  const missing = [];
  for (const [key, value] of Object.entries(file.top)) {
    const at = kept.slice(0, top).findIndex((line) => new RegExp(`^\\s*${key}\\s*=`).test(line));
    if (at === -1) missing.push(`${key} = ${tomlString(value)}`);
    else kept[at] = `${key} = ${tomlString(value)}`;
  }
  kept.splice(0, 0, ...missing);
  for (const [name, entries] of Object.entries(file.tables)) {
    if (kept.length > 0) kept.push('');
    kept.push(`[${name}]`, ...Object.entries(entries).map(([k, v]) => `${k} = ${tomlString(v)}`));
  }
  return `${kept.join('\n')}\n`;
}

const MERGE = { json: mergeJson, toml: mergeToml, text: (_text, file) => file.content };

function lockDown(target) {
  if (process.platform === 'win32') {
    const user = process.env.USERNAME ?? '';
    require('node:child_process').execFileSync(
      'icacls',
      [target, '/inheritance:r', '/grant:r', `${user}:(R,W)`],
      {
        stdio: 'ignore',
      },
    );
  } else fs.chmodSync(target, 0o600);
}

function apply(plan) {
  for (const file of plan.files) {
    const target = path.join(os.homedir(), ...file.path.split('/'));
    const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    const after = MERGE[file.kind](before ?? '', file);
    const shown = `~/${file.path}`;
    if (before === after) {
      process.stdout.write(`${shown}: already set up, unchanged\n`);
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (before !== undefined) {
      fs.copyFileSync(target, `${target}.tollgate.bak`);
      if (file.secret) lockDown(`${target}.tollgate.bak`);
    }
    fs.writeFileSync(target, after, { mode: file.secret ? 0o600 : 0o644 });
    if (file.secret) lockDown(target);
    process.stdout.write(
      `${shown}: ${before === undefined ? 'written' : `updated (previous version in ${shown}.tollgate.bak)`}\n`,
    );
  }
  for (const line of plan.notes) process.stdout.write(`${line}\n`);
}

apply(JSON.parse(Buffer.from(process.env.TOLLGATE_SETUP ?? '', 'base64').toString('utf8')));
