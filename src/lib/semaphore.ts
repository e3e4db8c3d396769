/** Bounds concurrent async work; waiters beyond `maxQueue` are refused at once instead of piling up. */
export class Semaphore {
  readonly #max: number
  readonly #maxQueue: number
  #active = 0
  readonly #queue: (() => void)[] = []

  constructor(max: number, maxQueue = Infinity) {
    this.#max = max
    this.#maxQueue = maxQueue
  }

  /** Runs `fn` when a slot is free; returns undefined without running it when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.#active >= this.#max) {
      if (this.#queue.length >= this.#maxQueue) return undefined
      await new Promise<void>((resolve) => this.#queue.push(resolve))
    } else this.#active++
    try {
      return { value: await fn() }
    } finally {
      const next = this.#queue.shift()
      if (next) next()
      else this.#active--
    }
  }
}
