/**
 * `GET /docs`: a self-contained page (no external script, style or font, so it works offline and under a
 * strict CSP) that fetches `openapi.json` next to it and renders every route, its auth and its body.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tollgate API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#1b1f24;color:#fff;padding:16px 24px}h1{margin:0;font-size:20px}
main{max-width:960px;margin:0 auto;padding:16px 24px}
.op{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:12px 0;padding:12px 16px}
.m{display:inline-block;min-width:56px;font-weight:700;text-transform:uppercase}.get{color:#0969da}.post{color:#1a7f37}
code{background:#eef1f4;padding:1px 4px;border-radius:4px}.auth{color:#57606a;font-size:13px}
table{border-collapse:collapse;margin-top:6px}td{padding:2px 10px 2px 0;vertical-align:top}
</style></head>
<body><header><h1>Tollgate API</h1><div id="version"></div></header>
<main><p id="description"></p><div id="ops">Loading…</div></main>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
fetch('openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('version').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('description').textContent = doc.info.description;
  const out = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const auth = (op.security || []).map((s) => Object.keys(s)[0] || 'none').join(' or ') || 'public';
      const body = op.requestBody ? op.requestBody.content['application/json'].schema : null;
      const fields = body && body.properties ? Object.entries(body.properties).map(([n, p]) =>
        '<tr><td><code>' + esc(n) + '</code>' + ((body.required || []).includes(n) ? ' *' : '') + '</td><td>' + esc(p.type || 'any') + '</td><td>' + esc(p.description || '') + '</td></tr>').join('') : '';
      out.push('<section class="op" data-path="' + esc(path) + '"><span class="m ' + method + '">' + method + '</span> <code>' + esc(path) +
        '</code><div>' + esc(op.summary) + '</div><div class="auth">auth: ' + esc(auth) + '</div>' + (fields ? '<table>' + fields + '</table>' : '') + '</section>');
    }
  }
  document.getElementById('ops').innerHTML = out.join('');
}).catch((e) => { document.getElementById('ops').textContent = 'Could not load openapi.json: ' + e; });
</script></body></html>`;
