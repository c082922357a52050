/**
 * The HTTP side of `tollgate doctor`: plain requests, and a stream reader that notes which network read
 * brought each server-sent event, so a gateway that holds small writes back shows as several events per read.
 */

/** A whole answer. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON, or undefined. */
  json: unknown;
  ms: number;
}

/** Sends one request and reads the whole answer. */
export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json, ms: performance.now() - started };
}

/** One event as it arrived. */
export interface ArrivedEvent {
  /** ms since the request was sent. */
  at: number;
  /** Index of the network read that completed it. */
  read: number;
  event: string | undefined;
  data: string;
}

/** A stream as it arrived. */
export interface StreamArrival {
  status: number;
  headers: Headers;
  events: ArrivedEvent[];
  reads: number;
  /** The body, when the answer was not a stream (an error). */
  text: string;
}

function parseBlock(block: string): { event: string | undefined; data: string } | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return data.length === 0 ? undefined : { event, data: data.join('\n') };
}

/** Sends a streamed request and records every event with its arrival time and network read. */
export async function readStream(
  url: string,
  init: { headers: Record<string, string>; body: unknown },
): Promise<StreamArrival> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify(init.body),
  });
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream') || response.body === null) {
    return {
      status: response.status,
      headers: response.headers,
      events: [],
      reads: 0,
      text: await response.text(),
    };
  }
  const decoder = new TextDecoder();
  const events: ArrivedEvent[] = [];
  let buffer = '';
  let reads = 0;
  for await (const chunk of response.body) {
    const at = performance.now() - started;
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const parsed = parseBlock(buffer.slice(0, end));
      if (parsed !== undefined) events.push({ at, read: reads, ...parsed });
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
    }
    reads += 1;
  }
  return { status: response.status, headers: response.headers, events, reads, text: '' };
}
