import { describe, expect, it } from 'vitest'
import { BackgroundTasks } from './background-tasks.js'

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {}
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('BackgroundTasks', () => {
  it('runs up to max tasks at once and refuses one more until one finishes', async () => {
    const tasks = new BackgroundTasks(2, () => {})
    const gates = [deferred(), deferred()]
    expect(tasks.start(() => gates[0]!.promise)).toBe(true)
    expect(tasks.start(() => gates[1]!.promise)).toBe(true)
    let ran = false
    expect(
      tasks.start(async () => {
        ran = true
      }),
    ).toBe(false)
    expect(ran).toBe(false)
    gates[0]!.resolve()
    await gates[0]!.promise
    await new Promise((r) => setImmediate(r))
    expect(tasks.size).toBe(1)
    expect(tasks.start(async () => {})).toBe(true)
    gates[1]!.resolve()
    await tasks.idle()
    expect(tasks.size).toBe(0)
  })

  it('reports a failing task to onError instead of leaving it unhandled', async () => {
    const errors: unknown[] = []
    const tasks = new BackgroundTasks(1, (err) => errors.push(err))
    tasks.start(async () => {
      throw new Error('boom')
    })
    await tasks.idle()
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toBe('boom')
    expect(tasks.start(async () => {})).toBe(true)
  })
})
