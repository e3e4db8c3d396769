import { crc32, MAX_IDENTIFIER_LENGTH, nowDateTime, randomString } from '../lib/index.js'
import type {
  AuthOptions,
  Collection,
  CollectionType,
  EmailTemplate,
  Field,
  TokenConfig,
} from './collection.js'
import { FIELD_TYPES } from './fields/index.js'

/** `type + CRC32(name)`, PocketBase's default field id. */
export const defaultFieldId = (type: string, name: string): string => `${type}${crc32(name)}`

/** `pbc_ + CRC32(type + name)`, PocketBase's default collection id. */
export const defaultCollectionId = (type: string, name: string): string => `pbc_${crc32(type + name)}`

/** A field of `type` with every option at its zero value, overridden by `props`. */
export function makeField(type: string, name: string, props: Partial<Field> = {}): Field {
  const ft = FIELD_TYPES.get(type)
  if (!ft) throw new Error(`unknown field type ${type}`)
  const field: Field = {
    id: defaultFieldId(type, name),
    name,
    type,
    system: false,
    hidden: false,
    presentable: false,
    ...(ft.hasHelp ? { help: '' } : {}),
  }
  for (const [key, spec] of Object.entries(ft.options)) field[key] = structuredClone(spec.default)
  return Object.assign(field, props)
}

export const idField = (): Field =>
  makeField('text', 'id', {
    system: true,
    primaryKey: true,
    required: true,
    min: 15,
    max: 15,
    pattern: '^[a-z0-9]+$',
    autogeneratePattern: '[a-z0-9]{15}',
  })

/** The system fields every auth collection has (§6.4). */
export function authSystemFields(): Field[] {
  return [
    makeField('password', 'password', { system: true, hidden: true, required: true, min: 8 }),
    makeField('text', 'tokenKey', {
      system: true,
      hidden: true,
      required: true,
      min: 30,
      max: 60,
      autogeneratePattern: '[a-zA-Z0-9]{50}',
    }),
    makeField('email', 'email', { system: true, required: true }),
    makeField('bool', 'emailVisibility', { system: true }),
    makeField('bool', 'verified', { system: true }),
  ]
}

export const autodateFields = (): Field[] => [
  makeField('autodate', 'created', { onCreate: true, onUpdate: false }),
  makeField('autodate', 'updated', { onCreate: true, onUpdate: true }),
]

/** `idx_<field>_<collectionId>`, with the id hashed when the name would pass the identifier limit. */
export function fieldIndexName(field: string, collectionId: string): string {
  const name = `idx_${field}_${collectionId}`
  return name.length <= MAX_IDENTIFIER_LENGTH ? name : `idx_${field}_${crc32(collectionId)}`
}

/** The unique indexes every auth collection keeps on tokenKey and email. */
export function authSystemIndexes(c: Pick<Collection, 'id' | 'name'>): string[] {
  return [
    `CREATE UNIQUE INDEX \`${fieldIndexName('tokenKey', c.id)}\` ON \`${c.name}\` (\`tokenKey\`)`,
    `CREATE UNIQUE INDEX \`${fieldIndexName('email', c.id)}\` ON \`${c.name}\` (\`email\`) WHERE \`email\` != ''`,
  ]
}

const template = (subject: string, body: string): EmailTemplate => ({ subject, body })
const token = (duration: number): TokenConfig => ({ duration, secret: randomString(50) })

export function defaultAuthOptions(): AuthOptions {
  return {
    authRule: '',
    manageRule: null,
    authAlert: {
      enabled: true,
      emailTemplate: template(
        'Login from a new location',
        "<p>Hello,</p>\n<p>We noticed a login to your {APP_NAME} account from a new location:</p>\n<p><em>{ALERT_INFO}</em></p>\n<p><strong>If this wasn't you, you should immediately change your {APP_NAME} account password to revoke access from all other locations.</strong></p>\n<p>If this was you, you may disregard this email.</p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
      ),
    },
    oauth2: {
      enabled: false,
      mappedFields: { id: '', name: '', username: '', avatarURL: '' },
      providers: [],
    },
    passwordAuth: { enabled: true, identityFields: ['email'] },
    mfa: { enabled: false, duration: 600, rule: '' },
    otp: {
      enabled: false,
      duration: 180,
      length: 8,
      emailTemplate: template(
        'OTP for {APP_NAME}',
        "<p>Hello,</p>\n<p>Your one-time password is: <strong>{OTP}</strong></p>\n<p><i>If you didn't ask for the one-time password, you can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
      ),
    },
    authToken: token(432_000),
    passwordResetToken: token(1800),
    emailChangeToken: token(1800),
    verificationToken: token(86_400),
    fileToken: token(180),
    verificationTemplate: template(
      'Verify your {APP_NAME} email',
      '<p>Hello,</p>\n<p>Thank you for joining us at {APP_NAME}.</p>\n<p>Click on the button below to verify your email address.</p>\n<p>\n  <a class="btn" href="{APP_URL}/_/#/auth/confirm-verification/{TOKEN}" target="_blank" rel="noopener">Verify</a>\n</p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>',
    ),
    resetPasswordTemplate: template(
      'Reset your {APP_NAME} password',
      '<p>Hello,</p>\n<p>Click on the button below to reset your password.</p>\n<p>\n  <a class="btn" href="{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}" target="_blank" rel="noopener">Reset password</a>\n</p>\n<p><i>If you didn\'t ask to reset your password, you can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>',
    ),
    confirmEmailChangeTemplate: template(
      'Confirm your {APP_NAME} new email address',
      '<p>Hello,</p>\n<p>Click on the button below to confirm your new email address.</p>\n<p>\n  <a class="btn" href="{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}" target="_blank" rel="noopener">Confirm new email</a>\n</p>\n<p><i>If you didn\'t ask to change your email address, you can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>',
    ),
  }
}

/**
 * A new collection of `type` with its system fields, indexes and options, before the request body is
 * merged over it (PocketBase's `NewCollection`).
 */
export function scaffoldCollection(type: CollectionType, name: string, id?: string): Collection {
  const now = nowDateTime()
  const c: Collection = {
    id: id || defaultCollectionId(type, name),
    name,
    type,
    system: false,
    fields: type === 'view' ? [] : [idField()],
    indexes: [],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    created: now,
    updated: now,
  }
  if (type === 'auth') {
    c.fields.push(...authSystemFields())
    Object.assign(c, defaultAuthOptions())
  }
  if (type === 'view') c.viewQuery = ''
  return c
}
