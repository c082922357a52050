/**
 * Receipt names: they carry the request id (a UUID compactly, anything else as it is) and the expiry, read
 * back exactly; receipts of the earlier format are still read; no other counter attribute is taken for one.
 */
import { describe, expect, it } from 'vitest';
import { isOwnReceipt, receiptName, receiptsOf } from '#shared/store/counters.ts';

const UUID = 'c0a8012e-7f3b-4d2a-9e61-0b5c3d4e5f60';
const EXPIRY = Date.parse('2026-12-07T01:16:30.250Z');

describe('receipts on a counter item', () => {
  it('name an API Gateway request id in 30 characters and read it back with the expiry, to the second', () => {
    // Prepare
    const name = receiptName(UUID, EXPIRY);

    // Act
    const [receipt] = receiptsOf({ [name]: 1234 }, 'key');

    // Assess
    expect(name).toHaveLength(30);
    expect(receipt).toEqual({
      name,
      requestId: UUID,
      expiresAt: Date.parse('2026-12-07T01:16:30Z'),
      micros: 1234,
      tokens: 0,
    });
  });

  it('keep any other request id as it is', () => {
    const ids = ['local-42', 'C0A8012E-7F3B-4D2A-9E61-0B5C3D4E5F60', 'req~with~tildes'];
    const item = Object.fromEntries(ids.map((id, i) => [receiptName(id, EXPIRY), i + 1]));
    expect(receiptsOf(item, 'team').map((r) => [r.requestId, r.micros])).toEqual([
      ['local-42', 1],
      ['C0A8012E-7F3B-4D2A-9E61-0B5C3D4E5F60', 2],
      ['req~with~tildes', 3],
    ]);
  });

  it('hold tokens, not money, on a rate minute', () => {
    const [receipt] = receiptsOf({ [receiptName(UUID, EXPIRY)]: 90 }, 'rate');
    expect(receipt).toMatchObject({ micros: 0, tokens: 90 });
  });

  it('still read receipts of the earlier format, so none written before an upgrade is stranded', () => {
    const legacy = { [`r_${UUID}`]: { x: EXPIRY, m: 700, t: 5 } };
    expect(receiptsOf(legacy, 'key')).toEqual([
      { name: `r_${UUID}`, requestId: UUID, expiresAt: EXPIRY, micros: 700, tokens: 5 },
    ]);
  });

  it('take no other attribute of a counter item for a receipt', () => {
    const item = {
      pk: 'key#k',
      sk: 'month#2026-12',
      spr: 10,
      reservedMicros: 5,
      requests: 3,
      spentMicros: 5,
      tok: 0,
      lastUsedAt: '2026-12-07T00:00:00Z',
      month: '2026-12',
      R: 1,
    };
    expect(receiptsOf(item, 'key')).toEqual([]);
  });
});

describe('a reservation refused because its receipt is there', () => {
  const counter = {
    pk: 'key#k',
    sk: 'month#2026-12',
    micros: 800,
    tokens: 0,
    kind: 'key' as const,
    receipt: receiptName(UUID, EXPIRY),
  };

  it('is its own earlier attempt when the receipt holds its amount', () => {
    expect(isOwnReceipt(counter, { [counter.receipt]: { N: '800' } })).toBe(true);
  });

  it('is not when the receipt holds another amount, or is absent', () => {
    expect(isOwnReceipt(counter, { [counter.receipt]: { N: '900' } })).toBe(false);
    expect(isOwnReceipt(counter, { spr: { N: '800' } })).toBe(false);
    expect(isOwnReceipt(counter, undefined)).toBe(false);
  });
});
