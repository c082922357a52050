/**
 * A fake of the S3 REST API for one versioned bucket with Object Lock, path-style: PutObject (a checksum is
 * required, as Object Lock requires; `If-None-Match: *` answers 412 when the key exists; otherwise a new
 * version), GetObject (the newest version; 404 NoSuchKey), ListObjectsV2 (prefix, pages of `pageSize` with
 * continuation tokens), DeleteObject refused as the digest bucket's policy refuses it. XML errors as S3's.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { listen } from '../helpers/http.ts';

const xml = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Decodes an `aws-chunked` body: `size[;ext]\r\n data \r\n` … `0\r\n` then trailing headers. */
function unchunk(raw: Buffer): { data: Buffer; trailers: Record<string, string> } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.subarray(at, eol).toString().split(';')[0] ?? '0', 16);
    at = eol + 2;
    if (size === 0) break;
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.subarray(at).toString().split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { data: Buffer.concat(parts), trailers };
}

/** Starts the fake; `objects` shows every version of every key, for assertions. */
export async function startFakeS3(bucket: string, options: { pageSize?: number } = {}) {
  const objects = new Map<string, Buffer[]>();
  const puts: Array<{ key: string; ifNoneMatch: string | undefined; status: number }> = [];
  const { port, close } = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const fail = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message><RequestId>r-1</RequestId></Error>`,
      );
    };
    const raw = await body(req);
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
      return fail(403, 'AccessDenied', 'Access Denied');
    const [, name, ...rest] = url.pathname.split('/');
    if (name !== bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const key = decodeURIComponent(rest.join('/'));
    if (req.method === 'PUT' && key !== '') {
      const chunked = String(req.headers['content-encoding'] ?? '').includes('aws-chunked');
      const { data, trailers } = chunked ? unchunk(raw) : { data: raw, trailers: {} };
      const checksum = req.headers['x-amz-checksum-sha256'] ?? trailers['x-amz-checksum-sha256'];
      const ifNoneMatch = req.headers['if-none-match'] as string | undefined;
      const record = (status: number) => puts.push({ key, ifNoneMatch, status });
      if (checksum === undefined && req.headers['content-md5'] === undefined) {
        record(400);
        return fail(
          400,
          'InvalidRequest',
          'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
        );
      }
      if (checksum !== undefined && checksum !== createHash('sha256').update(data).digest('base64')) {
        record(400);
        return fail(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
      }
      if (ifNoneMatch === '*' && objects.has(key)) {
        record(412);
        return fail(
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
        );
      }
      objects.set(key, [...(objects.get(key) ?? []), data]);
      record(200);
      res.writeHead(200, { etag: `"${createHash('md5').update(data).digest('hex')}"` });
      return res.end();
    }
    if (req.method === 'GET' && key !== '') {
      const newest = objects.get(key)?.at(-1);
      if (newest === undefined) return fail(404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': newest.length });
      return res.end(newest);
    }
    if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      const start = Number(url.searchParams.get('continuation-token') ?? '0');
      const size = options.pageSize ?? 1000;
      const page = keys.slice(start, start + size);
      const more = start + size < keys.length;
      res.writeHead(200, { 'content-type': 'application/xml' });
      return res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${size}</MaxKeys><IsTruncated>${more}</IsTruncated>${page
          .map(
            (k) =>
              `<Contents><Key>${xml(k)}</Key><Size>${objects.get(k)?.at(-1)?.length ?? 0}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
          )
          .join(
            '',
          )}${more ? `<NextContinuationToken>${start + size}</NextContinuationToken>` : ''}</ListBucketResult>`,
      );
    }
    if (req.method === 'DELETE') return fail(403, 'AccessDenied', 'Access Denied');
    return fail(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  });
  return { endpoint: `http://127.0.0.1:${port}`, objects, puts, close };
}
