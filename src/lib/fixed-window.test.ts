import { describe, expect, it } from 'vitest'
import { FixedWindowCounter } from './fixed-window.js'

describe('FixedWindowCounter', () => {
  const limit = { max: 3, windowMs: 1000 }

  it('allows max hits per window, refuses max+1, refills windowMs after the last allowed hit', () => {
    let now = 0
    const c = new FixedWindowCounter(10, () => now)
    expect([1, 2, 3, 4].map(() => c.take('a', limit))).toEqual([true, true, true, false])
    expect(c.allows('a', limit)).toBe(false)
    // Another key has its own window.
    expect(c.take('b', limit)).toBe(true)
    now = 999
    expect(c.take('a', limit)).toBe(false)
    now = 1000
    expect(c.take('a', limit)).toBe(true)
  })

  it('refused hits take nothing, so hammering never extends the lockout', () => {
    let now = 0
    const c = new FixedWindowCounter(10, () => now)
    for (let i = 0; i < 3; i++) c.take('a', limit)
    for (now = 1; now < 1000; now += 50) expect(c.take('a', limit)).toBe(false)
    now = 1000
    expect(c.take('a', limit)).toBe(true)
  })

  it('refund gives one hit back; a lower limit applies to existing counters at once', () => {
    const c = new FixedWindowCounter(10, () => 0)
    for (let i = 0; i < 3; i++) c.take('a', limit)
    c.refund('a')
    expect(c.take('a', limit)).toBe(true)
    expect(c.take('a', limit)).toBe(false)
    expect(c.allows('a', { max: 2, windowMs: 1000 })).toBe(false)
    expect(c.take('z', { max: 0, windowMs: 1000 })).toBe(false)
  })

  it('holds at most maxKeys keys, evicting the least recently hit', () => {
    const c = new FixedWindowCounter(3, () => 0)
    for (const k of ['a', 'b', 'c']) c.take(k, limit)
    c.take('a', limit) // a is now the most recent
    c.take('d', limit) // evicts b
    expect(c.size).toBe(3)
    expect(c.take('a', limit)).toBe(true)
    expect(c.take('a', limit)).toBe(false) // a kept its count
    expect(c.allows('b', { max: 1, windowMs: 1000 })).toBe(true) // b was forgotten
    expect(() => new FixedWindowCounter(0)).toThrow(RangeError)
  })
})
