/**
 * Shutdown is bounded: a connection that never finishes its request (a client that sent half its
 * headers and went silent) is closed after the grace period instead of holding `close()` open.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createStore, startGalley } from './helpers/galley.js'

describe('shutdown', () => {
  it(
    'a request that never completes holds close() for the grace period at most',
    { timeout: 40_000 },
    async () => {
      const store = await createStore('sqlite')
      const g = await startGalley(store)
      try {
        const { port } = new URL(g.url)
        const socket = connect(Number(port), '127.0.0.1')
        socket.on('error', () => {})
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
        socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n')
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
        const t0 = Date.now()
        await g.close()
        const ms = Date.now() - t0
        await closed
        // the grace period (10 s) and a little; without it Node waits for its headers timeout or longer
        expect(ms).toBeGreaterThanOrEqual(9_000)
        expect(ms).toBeLessThan(15_000)
      } finally {
        await store.cleanup()
      }
    },
  )
})
