/**
 * What the built-in `echo` provider answers: read from the last user message, so any client of any API can
 * ask for an answer of a given shape without a field the API lacks. A message that is a JSON object with an
 * `echo` member is an instruction; any other message is echoed back as it is, in one event per word.
 *
 *   {"echo": {"events": 8, "gapMs": 250, "eventBytes": 16, "inputTokens": 100, "outputTokens": 50}}
 *
 * Every figure is optional and clamped to {@link ECHO_BOUNDS}; the whole answer lasts at most
 * `maxDurationMs`, so no request can keep a function busy past Lambda's limit.
 */

/** The answer the echo provider gives. */
export interface EchoScript {
  /** The answer's pieces: one content event each when streamed, joined when not. */
  pieces: string[];
  /** Pause before each piece after the first. */
  gapMs: number;
  inputTokens: number;
  outputTokens: number;
}

/** Bounds of every figure a request may choose. */
export const ECHO_BOUNDS = {
  events: { min: 1, max: 1000 },
  gapMs: { min: 0, max: 60_000 },
  eventBytes: { min: 1, max: 65_536 },
  tokens: { min: 0, max: 10_000_000 },
  /** events × gapMs: five minutes. */
  maxDurationMs: 300_000,
} as const;

const FILLER = 'echo ';

function clamp(value: unknown, bounds: { min: number; max: number }, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(bounds.max, Math.max(bounds.min, Math.round(value)));
}

/** Text of a message's content in any of the four APIs: a string, or parts with `text`. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => {
      const text = (part as { text?: unknown } | null)?.text;
      return typeof text === 'string' ? text : '';
    })
    .join('');
}

/** The last user message of an OpenAI, Anthropic or Gemini request body, as text. */
export function lastUserText(body: Record<string, unknown>): string {
  if (typeof body.input === 'string') return body.input;
  const list = body.messages ?? body.input ?? body.contents;
  if (!Array.isArray(list)) return '';
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i] as { role?: unknown; content?: unknown; parts?: unknown } | null;
    if (item === null || typeof item !== 'object') continue;
    // Gemini's user turns may leave out the role.
    if (item.role !== undefined && item.role !== 'user') continue;
    return textOf(item.content ?? item.parts);
  }
  return '';
}

function instructionOf(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as { echo?: unknown };
    const echo = parsed.echo;
    return typeof echo === 'object' && echo !== null && !Array.isArray(echo)
      ? (echo as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The deterministic answer to a request body. */
export function echoScript(body: Record<string, unknown>): EchoScript {
  const text = lastUserText(body);
  const inputDefault = Math.max(1, Math.ceil(JSON.stringify(body).length / 4));
  const instruction = instructionOf(text);
  if (instruction === undefined) {
    const words = text.match(/\S+\s*/g) ?? ['(empty)'];
    return { pieces: words, gapMs: 0, inputTokens: inputDefault, outputTokens: words.length };
  }
  const events = clamp(instruction.events, ECHO_BOUNDS.events, 3);
  const gapMs = Math.min(
    clamp(instruction.gapMs, ECHO_BOUNDS.gapMs, 0),
    Math.floor(ECHO_BOUNDS.maxDurationMs / Math.max(1, events - 1)),
  );
  const size = clamp(instruction.eventBytes, ECHO_BOUNDS.eventBytes, FILLER.length);
  const piece = FILLER.repeat(Math.ceil(size / FILLER.length)).slice(0, size);
  return {
    pieces: Array.from({ length: events }, () => piece),
    gapMs,
    inputTokens: clamp(instruction.inputTokens, ECHO_BOUNDS.tokens, inputDefault),
    outputTokens: clamp(instruction.outputTokens, ECHO_BOUNDS.tokens, events),
  };
}
