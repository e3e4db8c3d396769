import type { Database, Executor } from '../db/index.js'
import {
  badRequest,
  fieldError,
  isJsonObject,
  mergeTyped,
  nowDateTime,
  serialRefresh,
  ValidationErrors,
  type Json,
  type Logger,
} from '../lib/index.js'
import { defaultSettings, SECRET_PATHS, type RateLimitRule, type Settings } from './settings.js'
import { validateSettings } from './validate-settings.js'

const PARAM_ID = 'settings'
export const SETTINGS_CHANNEL = 'galley_settings'
const RULE_TEMPLATE: Json = { label: '', audience: '', duration: 0, maxRequests: 0 }
const MAX_RATE_LIMIT_RULES = 500

function getPath(obj: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((o, k) => (isJsonObject(o) ? o[k] : undefined), obj)
}

function setPath(obj: Json, path: readonly string[], value: unknown): void {
  let o: Json = obj
  for (const k of path.slice(0, -1)) o = o[k] as Json
  o[path[path.length - 1]!] = value
}

/** Settings in `_params`, cached in memory and reloaded when another instance changes them. */
export class SettingsService {
  readonly #database: Database
  readonly #logger: Logger
  #current: Settings = defaultSettings()
  #unsubscribe: (() => void) | undefined
  readonly #refresh = serialRefresh(async () => {
    this.#current = await readSettings(this.#database.db)
  })

  constructor(database: Database, logger: Logger) {
    this.#database = database
    this.#logger = logger
  }

  async start(): Promise<void> {
    await this.reload()
    const reload = () => {
      this.reload().catch((err: Error) => this.#logger.warn({ err: err.message }, 'settings reload failed'))
    }
    this.#unsubscribe = this.#database.subscribe(SETTINGS_CHANNEL, reload, reload)
  }

  stop(): void {
    this.#unsubscribe?.()
  }

  /** Re-reads the stored settings (one read at a time, never ending on a stale one). */
  reload(): Promise<void> {
    return this.#refresh()
  }

  /** The settings in force (with secrets); for services, never for a response. */
  get(): Readonly<Settings> {
    return this.#current
  }

  /** The API form: secrets removed. */
  toJSON(s: Settings = this.#current): Json {
    const out = structuredClone(s) as unknown as Json
    for (const path of SECRET_PATHS) {
      const parent = getPath(out, path.slice(0, -1))
      if (isJsonObject(parent)) delete parent[path[path.length - 1]!]
    }
    return out
  }

  /**
   * Merges `patch` over the stored settings. Read, merge and write happen in one transaction under
   * the schema lock, so two concurrent saves (requests or instances) never lose each other's keys.
   */
  async update(patch: unknown): Promise<Settings> {
    const message = 'An error occurred while saving the new settings.'
    if (!isJsonObject(patch)) throw badRequest(message)
    const db = this.#database
    const settings = await db.transaction(async (trx) => {
      await db.dialect.lockSchema(trx)
      const stored = await readSettings(trx)
      const next = structuredClone(stored) as unknown as Json
      const errors = new ValidationErrors()
      mergeTyped(next, patch, defaultSettings() as unknown as Json, errors, [], {
        rules: (v, _current, path) => decodeRules(v, path, errors),
      })
      // Write-only secrets: an omitted or empty value keeps the stored one.
      for (const path of SECRET_PATHS) {
        const sent = getPath(patch, path)
        if (sent === undefined || sent === '') setPath(next, path, getPath(stored, path))
      }
      const merged = next as unknown as Settings
      validateSettings(merged, errors)
      errors.throwIfAny(message)
      const now = nowDateTime()
      const value = JSON.stringify(merged)
      // An upsert: two first-ever saves racing must not hit the primary key.
      await trx
        .insertInto('_params')
        .values({ id: PARAM_ID, value, created: now, updated: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ value, updated: now }))
        .execute()
      await db.publish(SETTINGS_CHANNEL, 'changed', trx)
      return merged
    })
    this.#current = settings
    // And re-read: a concurrent save that committed after this one must win here too.
    await this.reload().catch((err: Error) =>
      this.#logger.warn({ err: err.message }, 'settings reload after save failed'),
    )
    return settings
  }
}

/** The stored settings merged onto the defaults (which fills keys added since they were written). */
async function readSettings(ex: Executor): Promise<Settings> {
  const row = await ex.selectFrom('_params').select('value').where('id', '=', PARAM_ID).executeTakeFirst()
  const settings = defaultSettings()
  if (row?.value) {
    mergeTyped(
      settings as unknown as Json,
      JSON.parse(String(row.value)) as Json,
      defaultSettings() as unknown as Json,
      new ValidationErrors(),
      [],
      { rules: (v) => v },
    )
  }
  return settings
}

function decodeRules(v: unknown, path: string[], errors: ValidationErrors): RateLimitRule[] | undefined {
  if (!Array.isArray(v) || v.length > MAX_RATE_LIMIT_RULES || !v.every(isJsonObject)) {
    errors.add(path, fieldError('validation_invalid_value', 'Invalid value.'))
    return undefined
  }
  return v.map((raw, i) => {
    const rule = { ...RULE_TEMPLATE }
    mergeTyped(rule, raw, RULE_TEMPLATE, errors, [...path, String(i)])
    return rule as unknown as RateLimitRule
  })
}
