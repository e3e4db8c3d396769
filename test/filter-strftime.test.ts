/**
 * `strftime()` in the records API (pocketbase-api.md §4.6) through the official SDK, on SQLite and
 * PostgreSQL: the same records for date, autodate and text fields, macros and modifiers, and an
 * unsupported specifier or modifier is a 400 with its position, never a 5xx.
 */
import type PocketBase from 'pocketbase'
import { ClientResponseError } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

const EVENTS = [
  { name: 'launch', at: '2024-02-29 23:30:00.000Z', note: '2024-02-29' },
  { name: 'review', at: '2024-03-01 00:15:00.000Z', note: 'not a date' },
  { name: 'retro', at: '2023-12-31 12:00:00.000Z', note: '2023-12-31T10:00:00+02:00' },
  { name: 'undated', at: '', note: '' },
]

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`strftime() in filters on ${kind}`, () => {
    let store: TestStore
    let server: RunningGalley
    let pb: PocketBase

    const names = async (filter: string) =>
      (await pb.collection('events').getFullList({ filter, sort: 'name' })).map((r) => r.name as string)

    beforeAll(async () => {
      store = await createStore(kind)
      server = await startGalley(store)
      pb = await server.asSuperuser()
      await pb.collections.create({
        name: 'events',
        type: 'base',
        listRule: '',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'at', type: 'date' },
          { name: 'note', type: 'text' },
          { name: 'created', type: 'autodate', onCreate: true },
        ],
      })
      for (const e of EVENTS) await pb.collection('events').create(e)
    })
    afterAll(async () => {
      await server?.close()
      await store?.cleanup()
    })

    it('formats date fields', async () => {
      expect(await names(`strftime('%Y', at) = "2024"`)).toEqual(['launch', 'review'])
      expect(await names(`strftime('%Y-%m', at) = "2024-02"`)).toEqual(['launch'])
      expect(await names(`strftime('%w', at) = "4"`)).toEqual(['launch'])
      expect(await names(`strftime('%j', at) = "365"`)).toEqual(['retro'])
    })

    it('applies modifiers the way SQLite does', async () => {
      // 23:30 + 1 hour is the next day; the last day of February plus a month rolls over
      expect(await names(`strftime('%Y-%m-%d', at, '+1 hours') = "2024-03-01"`)).toEqual(['launch', 'review'])
      expect(await names(`strftime('%Y-%m-%d', at, '+1 months', 'start of day') = "2024-03-29"`)).toEqual([
        'launch',
      ])
      expect(await names(`strftime('%Y-%m-%d', at, 'start of year', 'weekday 1') = "2024-01-01"`)).toEqual([
        'launch',
        'review',
      ])
    })

    it('reads text fields as SQLite reads time values; what it cannot read is ""', async () => {
      expect(await names(`strftime('%H', note) = "08"`)).toEqual(['retro'])
      expect(await names(`strftime('%d', note) = ""`)).toEqual(['review', 'undated'])
      expect(await names(`strftime('%Y', at) = ""`)).toEqual(['undated'])
    })

    it('autodate fields and the request time', async () => {
      const year = String(new Date().getUTCFullYear())
      expect(await names(`strftime('%Y', created) = "${year}"`)).toEqual([
        'launch',
        'retro',
        'review',
        'undated',
      ])
      expect(await names(`strftime('%Y') = "${year}" && strftime('%Y', @now) = strftime('%Y')`)).toHaveLength(
        4,
      )
    })

    it('an unsupported specifier or modifier is a 400 with its position', async () => {
      for (const [filter, message] of [
        [`strftime('%V', at) = "1"`, 'unsupported strftime() format specifier "%V" at 10'],
        [`strftime('%Y', at, 'localtime') = "1"`, 'unsupported strftime() modifier "localtime" at 19'],
        [`strftime(name, at) = "1"`, 'strftime() expects a format text as its first argument at 9'],
      ] as const) {
        const err = await pb
          .collection('events')
          .getList(1, 10, { filter })
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        expect(err).toBeInstanceOf(ClientResponseError)
        const res = err as ClientResponseError
        expect(res.status).toBe(400)
        expect(String(res.response.message)).toContain(message)
      }
    })
  })
}
