/** Server-sent events the gateway writes (reading upstream events: sse-relay.unit.test.ts). */
import { describe, expect, it } from 'vitest';
import { frameSse } from '#shared/proxy/sse.ts';

describe('frameSse', () => {
  it('writes event and id lines, one data line per line of data, and a blank line', () => {
    expect(frameSse({ event: 'error', id: '7', data: 'a\nb' })).toBe(
      'event: error\nid: 7\ndata: a\ndata: b\n\n',
    );
  });

  it('leaves out the default message event', () => {
    expect(frameSse({ event: 'message', data: '{}' })).toBe('data: {}\n\n');
  });
});
