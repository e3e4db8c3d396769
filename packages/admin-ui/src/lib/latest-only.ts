/** Wait after the last keystroke before asking the server. */
export const CHECK_DELAY_MS = 250

/**
 * A debounced, cancelling runner (the rule editor's live check): each `schedule` replaces the
 * pending run and aborts the one in flight, so only the latest run's answer is ever reported. A
 * run that rejects reports nothing: `run` turns the failures worth showing into answers.
 */
export function latestOnly<T>(
  run: (signal: AbortSignal) => Promise<T>,
  report: (answer: T) => void,
  delay = CHECK_DELAY_MS,
) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let controller: AbortController | undefined
  const cancel = () => {
    clearTimeout(timer)
    controller?.abort()
    controller = undefined
  }
  return {
    cancel,
    schedule(): void {
      cancel()
      timer = setTimeout(() => {
        const c = new AbortController()
        controller = c
        run(c.signal).then(
          (answer) => {
            if (!c.signal.aborted) report(answer)
          },
          () => {
            // aborted (a newer run replaced it), or nothing to show
          },
        )
      }, delay)
    },
  }
}
