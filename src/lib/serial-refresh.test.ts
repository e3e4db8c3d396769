import { describe, expect, it } from 'vitest'
import { serialRefresh } from './serial-refresh.js'

describe('serialRefresh', () => {
  it('runs one read at a time and ends a burst with one read started after the last call', async () => {
    let version = 0
    let seen = -1
    let running = 0
    let maxRunning = 0
    const starts: number[] = []
    const refresh = serialRefresh(async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      const v = version
      starts.push(v)
      await new Promise((r) => setTimeout(r, 5))
      seen = v
      running--
    })
    const first = refresh()
    version = 1 // a change announced while the first read runs
    const burst = [refresh(), refresh(), refresh()]
    await Promise.all([first, ...burst])
    expect(maxRunning).toBe(1)
    expect(starts).toEqual([0, 1]) // the three calls shared one fresh read
    expect(seen).toBe(1)
  })

  it('a failed read does not block the next', async () => {
    let fail = true
    const refresh = serialRefresh(async () => {
      if (fail) throw new Error('down')
    })
    await expect(refresh()).rejects.toThrow('down')
    fail = false
    await expect(refresh()).resolves.toBeUndefined()
  })
})
