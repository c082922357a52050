/**
 * The installation budget's counter split: a first budget is split by its size, so the installation's
 * month is no single hot item; later budgets keep the split; an operator's count applies from next month.
 */
import { describe, expect, it } from 'vitest';
import { shardsFor } from '#shared/store/shards.ts';

/** A fresh installation (tables of its own) whose settings store is returned. */
async function freshSettings() {
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  return (await setupLocalEnv()).stores.settings;
}

const USD = 1_000_000;
const MONTH = new Date().toISOString().slice(0, 7);

describe('the installation budget', () => {
  it('is split into one shard per 10 USD on first setting, between 1 and 16, from this month on', async () => {
    // Prepare
    const budgets = [5, 50, 159.99, 1000];

    // Act
    const counts: number[] = [];
    for (const usd of budgets) {
      const settings = await freshSettings();
      const set = await settings.set({ budgetMicros: usd * USD });
      counts.push(shardsFor(set.budgetShards, MONTH));
    }

    // Assess
    expect(counts).toEqual([1, 5, 15, 16]);
  });

  it('keeps its split when the budget changes, and takes a set count from the next month', async () => {
    // Prepare
    const settings = await freshSettings();
    await settings.set({ budgetMicros: 50 * USD });

    // Act
    const raised = await settings.set({ budgetMicros: 1000 * USD });
    const split = await settings.set({ budgetShards: 8 });

    // Assess
    expect(shardsFor(raised.budgetShards, MONTH)).toBe(5);
    expect(split.budgetShards).toMatchObject({ count: 8, previous: 5 });
    expect(shardsFor(split.budgetShards, MONTH)).toBe(5);
    expect(shardsFor(split.budgetShards, String(split.budgetShards?.from))).toBe(8);
  });
});
