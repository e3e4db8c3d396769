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
