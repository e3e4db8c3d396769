/** The dashboard's pure helpers (packages/admin-ui/src/lib): query snippets, index statements, listbox keys. */
import { describe, expect, it, vi } from 'vitest'
import { indexName, indexStatement, summarizeIndex } from '../packages/admin-ui/src/lib/indexes.js'
import { CHECK_DELAY_MS, latestOnly } from '../packages/admin-ui/src/lib/latest-only.js'
import { listboxKey } from '../packages/admin-ui/src/lib/listbox.js'
import {
  curlSnippet,
  queryString,
  sdkSnippet,
  TOKEN_PLACEHOLDER,
} from '../packages/admin-ui/src/lib/snippets.js'

describe('query snippets', () => {
  const q = {
    page: 2,
    perPage: 50,
    sort: '-title',
    filter: `title ~ "it's" && pages > 1`,
    fields: 'id,title',
  }

  it('URL-encodes every value, quotes included, and leaves out empty ones', () => {
    expect(queryString(q)).toBe(
      'page=2&perPage=50&sort=-title&filter=title%20~%20%22it%27s%22%20%26%26%20pages%20%3E%201&fields=id%2Ctitle',
    )
    expect(queryString({ ...q, sort: '', filter: '' })).toBe('page=2&perPage=50&fields=id%2Ctitle')
    const back = new URLSearchParams(queryString(q))
    expect(back.get('filter')).toBe(q.filter)
  })

  it('makes a shell-safe curl command and an SDK call with a token placeholder', () => {
    const curl = curlSnippet('http://127.0.0.1:8090', 'my books', q)
    expect(curl).toBe(
      `curl 'http://127.0.0.1:8090/api/collections/my%20books/records?${queryString(q)}' \\\n  -H 'Authorization: ${TOKEN_PLACEHOLDER}'`,
    )
    // single quotes open and close the URL only
    expect(curl.split("'").length).toBe(5)
    const sdk = sdkSnippet('http://127.0.0.1:8090', 'books', q)
    expect(sdk).toContain('.getList(2, 50, {')
    expect(sdk).toContain(`filter: ${JSON.stringify(q.filter)},`)
    expect(sdk).toContain(`pb.authStore.save("${TOKEN_PLACEHOLDER}")`)
  })
})

describe('index statements', () => {
  it('writes quoted statements and reads them back', () => {
    const stmt = indexStatement('idx_a', 'books', ['title', 'we`ird'], true)
    expect(stmt).toBe('CREATE UNIQUE INDEX `idx_a` ON `books` (`title`, `we``ird`)')
    expect(summarizeIndex(stmt)).toMatchObject({ name: 'idx_a', unique: true, rest: '' })
    expect(summarizeIndex('CREATE INDEX IF NOT EXISTS "i2" ON "t" ("a" DESC) WHERE a > 1')).toEqual({
      name: 'i2',
      unique: false,
      columns: 'a DESC',
      rest: 'WHERE a > 1',
    })
    expect(summarizeIndex('nonsense')).toBeUndefined()
  })

  it('names indexes readably within the identifier limit', () => {
    expect(indexName('books', ['title'])).toMatch(/^idx_books_title_\w{5}$/)
    expect(indexName('b'.repeat(100), ['c'.repeat(100)]).length).toBeLessThanOrEqual(63)
    expect(indexName('', ['x-y'])).toMatch(/^idx_new_x_y_\w{5}$/)
  })
})

describe('listbox keys', () => {
  it('moves with wrapping, accepts, closes, and leaves other keys to the input', () => {
    expect(listboxKey('ArrowDown', 2, 3)).toEqual({ kind: 'move', active: 0 })
    expect(listboxKey('ArrowUp', 0, 3)).toEqual({ kind: 'move', active: 2 })
    expect(listboxKey('Enter', 1, 3)).toEqual({ kind: 'accept' })
    expect(listboxKey('Tab', 1, 3)).toEqual({ kind: 'accept' })
    expect(listboxKey('Escape', 1, 3)).toEqual({ kind: 'close' })
    expect(listboxKey('a', 1, 3)).toBeUndefined()
    expect(listboxKey('Enter', 0, 0)).toBeUndefined()
  })
})

describe('the live check runner', () => {
  it('waits for a pause, runs once for a burst, aborts a stale run and reports only the latest', async () => {
    vi.useFakeTimers()
    try {
      const signals: AbortSignal[] = []
      const resolvers: ((v: string) => void)[] = []
      const reported: string[] = []
      const runner = latestOnly<string>(
        (signal) =>
          new Promise<string>((resolve, reject) => {
            signals.push(signal)
            resolvers.push(resolve)
            signal.addEventListener('abort', () => reject(new Error('aborted')))
          }),
        (answer) => reported.push(answer),
      )
      runner.schedule()
      await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS - 1)
      runner.schedule() // a key pressed before the pause ended: the wait starts over
      await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS - 1)
      expect(signals).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(1)
      expect(signals).toHaveLength(1)

      runner.schedule() // a newer text while the first run is in flight
      expect(signals[0]!.aborted).toBe(true)
      resolvers[0]!('stale')
      await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS)
      expect(signals).toHaveLength(2)
      resolvers[1]!('latest')
      await vi.advanceTimersByTimeAsync(0)
      expect(reported).toEqual(['latest'])

      runner.schedule()
      runner.cancel()
      await vi.advanceTimersByTimeAsync(CHECK_DELAY_MS * 2)
      expect(signals).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })
})
