/**
 * Work a request starts and does not wait for (an OTP's insert and mail). At most `max` run at
 * once: `start` refuses beyond that, and the caller then runs the task itself, so a flood slows
 * its own requests down instead of piling up unbounded work. A task that throws is reported to
 * `onError`, never left unhandled.
 */
export class BackgroundTasks {
  readonly #max: number
  readonly #onError: (err: unknown) => void
  readonly #running = new Set<Promise<void>>()

  constructor(max: number, onError: (err: unknown) => void) {
    this.#max = max
    this.#onError = onError
  }

  get size(): number {
    return this.#running.size
  }

  /** Starts `task` in the background; false (not started) when `max` tasks are running. */
  start(task: () => Promise<void>): boolean {
    if (this.#running.size >= this.#max) return false
    const p: Promise<void> = task()
      .catch((err: unknown) => this.#onError(err))
      .finally(() => this.#running.delete(p))
    this.#running.add(p)
    return true
  }

  /** Resolves once every task started so far (and any they started) has finished. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running])
  }
}
