import type { Database, Executor } from '../db/index.js'
import {
  badRequest,
  fieldError,
  forbidden,
  newRecordId,
  nowDateTime,
  ValidationErrors,
} from '../lib/index.js'
import {
  MAX_PASSWORD_LENGTH,
  isAuthCollection,
  type AuthCollection,
  type CollectionService,
} from '../schema/index.js'
import { SUPERUSERS } from './actor.js'
import { newTokenKey } from './auth-service.js'
import { hashPassword } from './password.js'

/** The first-run installer's answer once any superuser exists. */
export const superuserExists = () => forbidden('A superuser already exists: sign in instead.')

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/

/** Superuser accounts for the CLI (`galley superuser upsert|create|delete`) and the first-run installer. */
export class SuperuserService {
  readonly #database: Database
  readonly #collections: CollectionService

  constructor(database: Database, collections: CollectionService) {
    this.#database = database
    this.#collections = collections
  }

  /** The `_superusers` collection (as loaded now: its auth secret may change). */
  collection(): AuthCollection {
    const c = this.#collections.get(SUPERUSERS)
    if (!isAuthCollection(c)) throw new Error('_superusers is not an auth collection')
    return c
  }

  #validate(email: string, password: string | undefined): void {
    const errors = new ValidationErrors()
    if (!EMAIL.test(email))
      errors.add(['email'], fieldError('validation_is_email', 'Must be a valid email address.'))
    if (password !== undefined) {
      const field = this.collection().fields.find((f) => f.name === 'password')
      const min = Math.max(Number(field?.min ?? 8), 8)
      const max = Number(field?.max) || MAX_PASSWORD_LENGTH
      if ([...password].length < min || [...password].length > max)
        errors.add(
          ['password'],
          fieldError('validation_length_out_of_range', `The length must be between ${min} and ${max}.`),
        )
    }
    errors.throwIfAny('Invalid superuser data.')
  }

  async count(): Promise<number> {
    const r = await this.#database.db
      .selectFrom(SUPERUSERS)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst()
    return Number(r?.n ?? 0)
  }

  async exists(email: string): Promise<boolean> {
    const r = await this.#database.db
      .selectFrom(SUPERUSERS)
      .select('id')
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst()
    return r !== undefined
  }

  /** Creates the superuser, or sets its password when it exists (rotating its tokenKey). */
  async upsert(email: string, password: string): Promise<'created' | 'updated'> {
    this.#validate(email, password)
    if (await this.exists(email)) {
      await this.#setPassword(email, password)
      return 'updated'
    }
    await this.create(email, password)
    return 'created'
  }

  async create(email: string, password: string): Promise<void> {
    this.#validate(email, password)
    if (await this.exists(email)) throw badRequest(`A superuser with email ${email} already exists.`)
    await this.#insert(this.#database.db, email, await hashPassword(password))
  }

  /**
   * Creates the first superuser, refusing (403) once one exists. The check and the insert run in
   * one transaction under a lock, so two installers racing create one superuser, not two.
   */
  async createFirst(email: string, password: string): Promise<void> {
    this.#validate(email, password)
    const hash = await hashPassword(password)
    await this.#database.transaction(async (trx) => {
      await this.#database.dialect.lockKey(trx, 'superuser-install')
      const r = await trx
        .selectFrom(SUPERUSERS)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst()
      if (Number(r?.n ?? 0) > 0) throw superuserExists()
      await this.#insert(trx, email, hash)
    })
  }

  async #insert(executor: Executor, email: string, hash: string): Promise<void> {
    const d = this.#database.dialect
    const now = nowDateTime()
    await executor
      .insertInto(SUPERUSERS)
      .values({
        id: newRecordId(),
        email: email.toLowerCase(),
        password: hash,
        tokenKey: newTokenKey(),
        emailVisibility: d.encode('bool', false),
        verified: d.encode('bool', true),
        created: now,
        updated: now,
      })
      .execute()
  }

  async #setPassword(email: string, password: string): Promise<void> {
    // A new tokenKey invalidates every token issued before the password change.
    await this.#database.db
      .updateTable(SUPERUSERS)
      .set({ password: await hashPassword(password), tokenKey: newTokenKey(), updated: nowDateTime() })
      .where('email', '=', email.toLowerCase())
      .execute()
  }

  async delete(email: string): Promise<boolean> {
    this.#validate(email, undefined)
    return this.#database.transaction(async (trx) => {
      const rows = await trx.selectFrom(SUPERUSERS).select(['id', 'email']).execute()
      const target = rows.find((r) => String(r.email) === email.toLowerCase())
      if (!target) return false
      if (rows.length === 1) throw badRequest("You can't delete the only existing superuser.")
      await trx.deleteFrom(SUPERUSERS).where('id', '=', target.id).execute()
      return true
    })
  }
}
