import { toServerError, type ServerError } from './errors'

/** One form's request in flight: `busy` while it runs, the server's error after it failed. */
export class Pending {
  busy = $state(false)
  error = $state<ServerError>()

  /** Runs `work`; resolves true when it succeeded, false when its error is now in `error`. */
  async run(work: () => Promise<unknown>): Promise<boolean> {
    this.busy = true
    this.error = undefined
    try {
      await work()
      return true
    } catch (err) {
      this.error = toServerError(err)
      return false
    } finally {
      this.busy = false
    }
  }
}
