/**
 * The upstream's server-sent events, re-framed for the client as they arrive, in constant memory.
 *
 * An event is held until it is complete, then metered and sent (or dropped: the usage chunk the gateway
 * asked for on the client's behalf) framed by {@link frameSse}, as one write of its own. An event whose
 * data outgrows `holdChars` is not held: what arrived is sent at once and the rest follows piece by piece
 * as it arrives, while its JSON is read into a bounded {@link JsonSkeleton} for metering; such an event can
 * no longer be dropped. No text of any event is kept past its end, and no write holds two events' bytes.
 *
 * Parsing follows the SSE specification as eventsource-parser does (CR, LF and CRLF line ends; `data`,
 * `event` and `id` fields; comments, `retry` and unknown fields ignored; an event without data lines and an
 * unterminated last event are not dispatched), except that `event` and `id` values are cut at
 * {@link MAX_FIELD_CHARS} characters.
 */
import { type SseEvent, tryParseJson } from '../providers/types.ts';
import { JsonSkeleton } from './json-skeleton.ts';
import { frameSse, SSE_HEARTBEAT } from './sse.ts';

/** Data characters an event may reach before it is streamed instead of held. */
export const HOLD_CHARS = 64 * 1024;
/** `event` and `id` values are cut here: they name things, they do not carry content. */
export const MAX_FIELD_CHARS = 4096;
/** The longest field name read (`event`, `retry`); a longer name is an unknown field. */
const MAX_NAME_CHARS = 5;

/** What the relay asks of metering. */
export interface RelayMeter {
  /** One whole event, its data parsed as JSON (undefined when not JSON); false drops it while still held. */
  event(data: unknown): boolean;
  /** An event of which a part was sent when the stream stopped: only the content it holds counts. */
  partial(data: unknown): void;
}

/** Where the client's copy of the stream stands after what was sent. */
type Position = 'between' | 'inEvent' | 'inLine';

type Item =
  | { kind: 'held'; event: SseEvent }
  | { kind: 'piece'; text: string; skeleton: JsonSkeleton; ends: boolean; after: Position };

/** Parses upstream text into events and hands out what to send, one write at a time. */
export class SseRelay {
  private readonly meter: RelayMeter;
  private readonly holdChars: number;
  private readonly queue: Item[] = [];
  // Line state: the field name read so far, then the kind of value being read.
  private line: 'name' | 'space' | 'value' | 'skip' = 'name';
  private name = '';
  private field: 'data' | 'event' | 'id' = 'data';
  private value = '';
  private afterCR = false;
  // Event state.
  private type: string | undefined;
  private id: string | undefined;
  private dataLines = 0;
  private held: string[] = [];
  private heldChars = 0;
  /** Set while the current event is streamed rather than held. */
  private skeleton: JsonSkeleton | undefined;
  private sentType: string | undefined;
  private piece = '';
  // Output state.
  private position: Position = 'between';
  private sending: JsonSkeleton | undefined;

  constructor(meter: RelayMeter, options: { holdChars?: number } = {}) {
    this.meter = meter;
    this.holdChars = options.holdChars ?? HOLD_CHARS;
  }

  /** Characters held in all, for tests of boundedness: the event being read and what waits to be sent. */
  get buffered(): number {
    let queued = 0;
    for (const item of this.queue) queued += item.kind === 'held' ? item.event.data.length : item.text.length;
    return this.heldChars + this.value.length + this.piece.length + queued;
  }

  /** Reads the next piece of upstream text; returns how many writes it queued (events or pieces). */
  push(text: string): number {
    const before = this.queue.length;
    let i = 0;
    // The next LF and CR at or after a position, searched again only once passed, so that a chunk of
    // many lines is read in linear time; past the last one they stay at the text's length.
    let lf = -1;
    let cr = -1;
    const eol = (from: number): number => {
      if (lf < from) lf = indexOr(text, '\n', from);
      if (cr < from) cr = indexOr(text, '\r', from);
      const end = Math.min(lf, cr);
      return end === text.length ? -1 : end;
    };
    while (i < text.length) {
      if (this.afterCR) {
        this.afterCR = false;
        if (text[i] === '\n') {
          i++;
          continue;
        }
      }
      if (this.line === 'name') {
        i = this.readName(text, i);
        continue;
      }
      if (this.line === 'space') {
        if (text[i] === ' ') i++;
        this.line = 'value';
        continue;
      }
      const end = eol(i);
      const stop = end === -1 ? text.length : end;
      if (this.line === 'value' && stop > i) this.addValue(text.slice(i, stop));
      if (end === -1) break;
      this.endLine(text[end] === '\r');
      i = end + 1;
    }
    if (this.piece !== '' && this.skeleton !== undefined) this.enqueuePiece(false);
    return this.queue.length - before;
  }

  /** The next write for the client, metering its event as it leaves; undefined when none is ready. */
  take(): string | undefined {
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
      if (item.kind === 'held') {
        const data = item.event.data;
        const keep = this.meter.event(tryParseJson(data));
        if (!keep) continue;
        this.position = 'between';
        return frameSse(item.event);
      }
      this.position = item.after;
      if (item.ends) {
        this.sending = undefined;
        this.meter.event(item.skeleton.end());
      } else this.sending = item.skeleton;
      return item.text;
    }
    return undefined;
  }

  /** A keep-alive that is safe where the client's copy stands: '' in the middle of a line. */
  heartbeat(): string {
    if (this.position === 'between') return SSE_HEARTBEAT;
    // A comment line inside an event is ignored by clients; a blank line would end the event.
    return this.position === 'inEvent' ? ': keep-alive\n' : '';
  }

  /**
   * The stream stops here (ended, broke off, or the client left): meters the event that was partly sent,
   * drops what was not, and returns what closes the client's copy before anything else is sent ('' when it
   * stands between events).
   */
  cut(): string {
    const sending = this.sending;
    this.sending = undefined;
    this.queue.length = 0;
    this.held = [];
    this.heldChars = 0;
    this.skeleton = undefined;
    this.piece = '';
    if (sending !== undefined) this.meter.partial(sending.partial());
    const closer = this.position === 'inLine' ? '\n\n' : this.position === 'inEvent' ? '\n' : '';
    this.position = 'between';
    return closer;
  }

  /** Reads a field name from `i`; returns where it stopped. */
  private readName(text: string, from: number): number {
    let i = from;
    while (i < text.length) {
      const ch = text[i] ?? '';
      if (ch === '\n' || ch === '\r') {
        // A line without a colon is a field with an empty value; an empty line ends the event.
        if (this.name === '') this.dispatch();
        else if (this.startField(this.name)) this.endLine(ch === '\r');
        else this.line = 'name';
        this.name = '';
        this.afterCR = ch === '\r';
        return i + 1;
      }
      if (ch === ':') {
        // A line starting with a colon is a comment.
        this.line = this.name !== '' && this.startField(this.name) ? 'space' : 'skip';
        this.name = '';
        return i + 1;
      }
      this.name += ch;
      i++;
      if (this.name.length > MAX_NAME_CHARS) {
        this.name = '';
        this.line = 'skip';
        return i;
      }
    }
    return i;
  }

  /** Starts a field's value; false for a field the relay ignores. */
  private startField(name: string): boolean {
    if (name !== 'data' && name !== 'event' && name !== 'id') return false;
    this.field = name;
    this.value = '';
    if (name === 'data') {
      this.dataLines++;
      const streaming = this.skeleton !== undefined;
      // Data lines join with a line feed, in the JSON text as in the event (the join may start streaming,
      // which then frames this line itself).
      if (this.dataLines > 1) this.addData('\n', false);
      if (streaming) this.piece += 'data: ';
    }
    return true;
  }

  private addValue(text: string): void {
    if (this.field === 'data') {
      this.addData(text, true);
      return;
    }
    if (this.value.length < MAX_FIELD_CHARS) this.value += text.slice(0, MAX_FIELD_CHARS - this.value.length);
  }

  private addData(text: string, content: boolean): void {
    if (this.skeleton !== undefined) {
      this.skeleton.feed(text);
      if (content) this.piece += text;
      return;
    }
    this.held.push(text);
    this.heldChars += text.length;
    if (this.heldChars > this.holdChars) this.overflow();
  }

  /** The held event outgrew the hold: what it has so far goes out, framed as it will be framed whole. */
  private overflow(): void {
    const data = this.held.join('');
    this.held = [];
    this.heldChars = 0;
    this.skeleton = new JsonSkeleton();
    this.skeleton.feed(data);
    this.sentType = this.type;
    const head = frameSse({ event: this.type, id: this.id, data: '' }).slice(0, -'data: \n\n'.length);
    this.piece = `${head}data: ${data.replaceAll('\n', '\ndata: ')}`;
  }

  private endLine(cr: boolean): void {
    this.afterCR = cr;
    const line = this.line;
    this.line = 'name';
    if (line === 'skip') return;
    if (this.field === 'data') {
      if (this.skeleton !== undefined) this.piece += '\n';
      return;
    }
    if (this.field === 'event') {
      this.type = this.value === '' ? undefined : this.value;
      // Streamed, a later event line is sent where it came: the client takes the last one, as here.
      if (this.skeleton !== undefined && (this.type ?? 'message') !== (this.sentType ?? 'message')) {
        this.piece += `event: ${this.type ?? 'message'}\n`;
        this.sentType = this.type;
      }
    } else if (!this.value.includes('\0')) {
      this.id = this.value;
      if (this.skeleton !== undefined) this.piece += `id: ${this.id}\n`;
    }
    this.value = '';
  }

  private dispatch(): void {
    if (this.skeleton !== undefined) {
      this.piece += '\n';
      this.enqueuePiece(true);
    } else if (this.dataLines > 0) {
      this.queue.push({ kind: 'held', event: { event: this.type, id: this.id, data: this.held.join('') } });
    }
    this.type = undefined;
    this.id = undefined;
    this.dataLines = 0;
    this.held = [];
    this.heldChars = 0;
    this.skeleton = undefined;
  }

  private enqueuePiece(ends: boolean): void {
    const skeleton = this.skeleton;
    if (skeleton === undefined) return;
    // Only a data line is sent as it is read; any other line goes out whole at its end.
    const midData = this.field === 'data' && (this.line === 'space' || this.line === 'value');
    const after: Position = ends ? 'between' : midData ? 'inLine' : 'inEvent';
    this.queue.push({ kind: 'piece', text: this.piece, skeleton, ends, after });
    this.piece = '';
  }
}

/** Where `search` next occurs in `text` from `from`, or the text's length. */
function indexOr(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at === -1 ? text.length : at;
}
