import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { NOW, openFixture, requestData, ROWS, type Fixture } from './fixture.test-helper.js'
import { CASES } from './golden-cases.test-helper.js'
import { ReferenceEvaluator } from './reference-evaluator.test-helper.js'

/**
 * The reference evaluator (written from the spec) against the golden table (checked on both
 * databases): every rule of the table selects the same records. Client filters are left out: the
 * reference knows no listRules or hidden fields.
 */
describe('the reference evaluator agrees with the golden table', () => {
  let fx: Fixture
  beforeAll(async () => {
    fx = await openFixture('sqlite')
  })
  afterAll(async () => fx?.close())

  const rules = CASES.filter((c) => !c.client)
  test('most of the table is rules', () => expect(rules.length).toBeGreaterThanOrEqual(120))

  test.each(rules)('$name: $filter', (c) => {
    const reference = new ReferenceEvaluator(
      c.collection ?? 'posts',
      { find: (x) => fx.collections.find(x), rows: ROWS },
      requestData(c.as ?? 'guest'),
      NOW,
    )
    expect(reference.ids(c.filter)).toEqual(c.ids)
  })
})
