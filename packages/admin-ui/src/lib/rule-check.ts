import { toServerError, unplacedText } from './errors'
import { pb } from './pb'

/** The server's answer on a rule (`POST /api/galley/rules/check`, docs/admin.md). */
export interface RuleCheckAnswer {
  readonly ok: boolean
  readonly message?: string
  readonly position?: number
}

export type RuleKind =
  'listRule' | 'viewRule' | 'createRule' | 'updateRule' | 'deleteRule' | 'authRule' | 'manageRule'

/** Wait after the last keystroke before asking the server. */
export const CHECK_DELAY_MS = 250

/** Asks the server to resolve `rule` in the slot `kind` of the draft collection, as a save would. */
export async function checkRule(
  collection: Record<string, unknown>,
  rule: string,
  kind: RuleKind,
  signal: AbortSignal,
): Promise<RuleCheckAnswer> {
  try {
    return await pb.send<RuleCheckAnswer>('/api/galley/rules/check', {
      method: 'POST',
      body: { collection, rule, kind },
      signal,
    })
  } catch (err) {
    if (signal.aborted) throw err
    // a draft the server cannot read at all: its words, with each field's
    return { ok: false, message: unplacedText(toServerError(err), () => false) }
  }
}

/**
 * A debounced, cancelling checker: each `schedule` replaces the pending one and aborts a request
 * in flight, so only the answer for the latest text is ever reported.
 */
export function ruleChecker(
  run: (signal: AbortSignal) => Promise<RuleCheckAnswer>,
  report: (answer: RuleCheckAnswer | undefined) => void,
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
            // aborted: a newer text is being checked
          },
        )
      }, delay)
    },
  }
}
