import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from 'kysely'

/**
 * Fails every query once `signal` is aborted (with its reason), so work running inside a
 * transaction stops at its next statement and the transaction rolls back: a batch past its time
 * holds its connection (SQLite's only one) no longer than the statement running when it fired.
 */
export class AbortQueriesPlugin implements KyselyPlugin {
  constructor(readonly signal: AbortSignal) {}

  transformQuery(args: PluginTransformQueryArgs) {
    this.signal.throwIfAborted()
    return args.node
  }

  async transformResult(args: PluginTransformResultArgs) {
    return args.result
  }
}
