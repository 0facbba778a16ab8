import { it } from 'node:test';
import assert from 'node:assert/strict';
import { boundedMemo } from './bounded-memo.js';

it('computes a key once, keeps at most `limit` results and drops the oldest first', () => {
  const memo = boundedMemo<number>(2);
  let computed = 0;
  const get = (key: string) => memo.get(key, () => ++computed);
  assert.deepEqual([get('a'), get('a'), get('b'), get('c')], [1, 1, 2, 3]);
  assert.equal(get('a'), 4, 'a was dropped when c arrived, so it is computed again');
  assert.equal(get('c'), 3);
  memo.clear();
  assert.equal(get('c'), 5);
});
