import { badRequest, fieldError, isJsonObject, ValidationErrors } from '../lib/index.js'
import { superuserExists, type SuperuserService } from './superusers.js'
import { signToken, verifyToken } from './tokens.js'

/** How long a first-run link works (PocketBase's installer link lasts 30 minutes too). */
export const INSTALL_TOKEN_DURATION = 30 * 60
/** A token is a short JWT; anything longer is refused before it is parsed. */
export const MAX_INSTALL_TOKEN_LENGTH = 2048
/** Email and passwords are read up to this many characters (a longer value is refused unread). */
export const MAX_INSTALL_FIELD_LENGTH = 1024

const invalidToken = () =>
  badRequest('Invalid or expired install link: print a new one with `galley superuser install-link`.', {
    token: fieldError('validation_invalid_token', 'Invalid or expired token.'),
  })

/**
 * The first-run installer: a signed, short-lived token of its own type that lets whoever holds it
 * create the first superuser, and nothing else. It is signed with the `_superusers` auth secret
 * (prefixed, so it can never verify as another token) and is refused as soon as any superuser
 * exists, so a link is useless once it has been used.
 */
export class SuperuserInstaller {
  readonly #superusers: SuperuserService

  constructor(superusers: SuperuserService) {
    this.#superusers = superusers
  }

  #key(): { key: string; collectionId: string } {
    const c = this.#superusers.collection()
    return { key: `install:${c.authToken.secret}`, collectionId: c.id }
  }

  /** A fresh token; 403 when a superuser exists already. */
  async token(durationSeconds = INSTALL_TOKEN_DURATION): Promise<string> {
    if ((await this.#superusers.count()) > 0) throw superuserExists()
    const { key, collectionId } = this.#key()
    return signToken({ id: '', collectionId, type: 'install' }, key, durationSeconds)
  }

  /** 400 for a missing, forged or expired token; 403 once a superuser exists. */
  async check(token: unknown): Promise<void> {
    if (typeof token !== 'string' || token === '' || token.length > MAX_INSTALL_TOKEN_LENGTH)
      throw invalidToken()
    const { key, collectionId } = this.#key()
    const claims = await verifyToken(token, key, 'install')
    if (!claims || claims.collectionId !== collectionId) throw invalidToken()
    if ((await this.#superusers.count()) > 0) throw superuserExists()
  }

  /** `{token, email, password, passwordConfirm}`: creates the first superuser. */
  async install(body: unknown): Promise<void> {
    if (!isJsonObject(body)) throw badRequest('Failed to read the submitted data.')
    await this.check(body.token)
    const errors = new ValidationErrors()
    const text = (key: string): string => {
      const v = body[key]
      if (v === undefined || v === null || v === '') {
        errors.add([key], fieldError('validation_required', 'Cannot be blank.'))
        return ''
      }
      if (typeof v !== 'string' || v.length > MAX_INSTALL_FIELD_LENGTH) {
        errors.add([key], fieldError('validation_invalid_value', 'Invalid value.'))
        return ''
      }
      return v
    }
    const email = text('email')
    const password = text('password')
    const confirm = text('passwordConfirm')
    if (password && confirm && password !== confirm)
      errors.add(['passwordConfirm'], fieldError('validation_values_mismatch', "Values don't match."))
    errors.throwIfAny('An error occurred while validating the submitted data.')
    await this.#superusers.createFirst(email, password)
  }
}
