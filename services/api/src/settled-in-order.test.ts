import { describe, expect, it } from 'vitest';
import { settledInOrder } from './settled-in-order.js';

describe('settledInOrder', () => {
  it('answers both values in order', async () => {
    await expect(settledInOrder(Promise.resolve(1), Promise.resolve('two'))).resolves.toEqual([1, 'two']);
  });

  it("answers the first promise's error when both fail, even when the second fails sooner", async () => {
    const slowFirst = new Promise<never>((_, reject) => setImmediate(() => reject(new Error('first'))));
    await expect(settledInOrder(slowFirst, Promise.reject(new Error('second')))).rejects.toThrow('first');
  });

  it("answers the second promise's error when only it fails", async () => {
    await expect(settledInOrder(Promise.resolve(1), Promise.reject(new Error('second')))).rejects.toThrow(
      'second',
    );
  });
});
