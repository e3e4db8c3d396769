/**
 * Runs `run` at start and then every `intervalMs` (an unref'd timer, so it never keeps the process
 * alive), one run at a time: a tick while a run is in progress is skipped. `run` must handle its
 * own errors (log them); the next tick tries again. `stop()` ends the timer and waits for a run in
 * progress. Used by the background sweeps (expired OTP/MFA rows, orphan files).
 */
export class PeriodicTask {
  readonly #run: () => Promise<void>
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor(run: () => Promise<void>, intervalMs: number) {
    this.#run = run
    this.#intervalMs = intervalMs
  }

  start(): void {
    if (this.#timer) return
    this.#stopped = false
    this.#timer = setInterval(() => this.#kick(), this.#intervalMs)
    this.#timer.unref()
    this.#kick()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }

  #kick(): void {
    if (this.#running || this.#stopped) return
    this.#running = this.#run().finally(() => {
      this.#running = undefined
    })
  }
}
