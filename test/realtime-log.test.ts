/**
 * The event log's ids on PostgreSQL are drawn before the commit, so a later id can be visible while
 * an earlier one's transaction is still committing. `readSettled` never skips past such a gap: it
 * waits for the transaction to end, then returns the earlier event if it committed, or goes on
 * without it if it rolled back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Executor } from '../src/db/index.js'
import { createStore, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { PG_URL } from './helpers/pg.js'
import { sleep } from './helpers/sse.js'

const event = (n: number) => ({ collectionId: 'x', action: 'create' as const, record: { id: `r${n}` } })

describe.skipIf(!PG_URL)('realtime event log on PostgreSQL: settled reads', () => {
  let store: TestStore
  let g: RunningGalley
  beforeAll(async () => {
    store = await createStore('postgres')
    g = await startGalley(store)
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
  })

  /** Appends one event in a transaction that commits (or rolls back) only when `end` is called. */
  async function pending(n: number) {
    let finish: (commit: boolean) => void = () => {}
    const decided = new Promise<boolean>((resolve) => (finish = resolve))
    let appended: (id: number) => void = () => {}
    const id = new Promise<number>((resolve) => (appended = resolve))
    const done = g.galley.database.db
      .transaction()
      .execute(async (trx: Executor) => {
        const [e] = await g.galley.realtime.log.appendIn(trx, [event(n)])
        appended(e!.id)
        if (!(await decided)) throw new Error('rollback')
      })
      .catch(() => undefined)
    return { id: await id, end: (commit: boolean) => finish(commit), done }
  }

  for (const commit of [true, false]) {
    it(`waits for an earlier id's transaction, then ${commit ? 'returns its event' : 'goes on without it'}`, async () => {
      const log = g.galley.realtime.log
      const before = await log.lastId()
      const slow = await pending(1)
      const [fast] = await log.append([event(2)])
      expect(fast!.id).toBe(slow.id + 1)
      // the later id is visible, the earlier not yet: nothing is settled after `before` but the gap
      const read = log.readSettled(slow.id - 1, 100)
      let returned = false
      void read.then(() => (returned = true))
      await sleep(300)
      expect(returned).toBe(false)
      slow.end(commit)
      await slow.done
      const events = await read
      expect(events.map((e) => e.id)).toEqual(commit ? [slow.id, fast!.id] : [fast!.id])
      expect(before).toBeLessThan(slow.id)
    })
  }
})
