/** The field types the dashboard edits, and the main options of each (PocketBase's keys). */
export type OptionKind = 'int' | 'number' | 'bool' | 'text' | 'list' | 'collection'

export interface OptionSpec {
  readonly key: string
  readonly label: string
  readonly kind: OptionKind
  /** What an empty input means for the server: 0 for sizes and lengths, null where null is "none". */
  readonly empty?: 0 | null | ''
  readonly help?: string
}

const lengthAndPattern: OptionSpec[] = [
  { key: 'min', label: 'Min length', kind: 'int', empty: 0 },
  { key: 'max', label: 'Max length', kind: 'int', empty: 0 },
  { key: 'pattern', label: 'Pattern (regex)', kind: 'text', empty: '' },
]
const maxSelect: OptionSpec = { key: 'maxSelect', label: 'Max values', kind: 'int', empty: 0 }
const domains: OptionSpec[] = [
  { key: 'onlyDomains', label: 'Only domains', kind: 'list', help: 'Comma separated' },
  { key: 'exceptDomains', label: 'Except domains', kind: 'list', help: 'Comma separated' },
]

export const FIELD_TYPES: Record<string, { label: string; options: readonly OptionSpec[] }> = {
  text: {
    label: 'Plain text',
    options: [
      ...lengthAndPattern,
      { key: 'autogeneratePattern', label: 'Autogenerate pattern', kind: 'text', empty: '' },
    ],
  },
  editor: {
    label: 'Rich editor',
    options: [
      { key: 'maxSize', label: 'Max size (bytes)', kind: 'int', empty: 0 },
      { key: 'convertURLs', label: 'Convert URLs', kind: 'bool' },
    ],
  },
  number: {
    label: 'Number',
    options: [
      { key: 'min', label: 'Min', kind: 'number', empty: null },
      { key: 'max', label: 'Max', kind: 'number', empty: null },
      { key: 'onlyInt', label: 'Integers only', kind: 'bool' },
    ],
  },
  bool: { label: 'Bool', options: [] },
  email: { label: 'Email', options: domains },
  url: { label: 'URL', options: domains },
  date: {
    label: 'Date and time',
    options: [
      { key: 'min', label: 'Min (YYYY-MM-DD HH:MM:SS.000Z)', kind: 'text', empty: '' },
      { key: 'max', label: 'Max (YYYY-MM-DD HH:MM:SS.000Z)', kind: 'text', empty: '' },
    ],
  },
  autodate: {
    label: 'Autodate',
    options: [
      { key: 'onCreate', label: 'Set on create', kind: 'bool' },
      { key: 'onUpdate', label: 'Set on update', kind: 'bool' },
    ],
  },
  select: {
    label: 'Select',
    options: [{ key: 'values', label: 'Choices', kind: 'list', help: 'Comma separated' }, maxSelect],
  },
  file: {
    label: 'File',
    options: [
      maxSelect,
      { key: 'maxSize', label: 'Max size (bytes)', kind: 'int', empty: 0 },
      { key: 'mimeTypes', label: 'MIME types', kind: 'list', help: 'Comma separated, e.g. image/png' },
      { key: 'thumbs', label: 'Thumb sizes', kind: 'list', help: 'Comma separated, e.g. 100x100' },
      { key: 'protected', label: 'Protected (needs a file token)', kind: 'bool' },
    ],
  },
  relation: {
    label: 'Relation',
    options: [
      { key: 'collectionId', label: 'Collection', kind: 'collection' },
      { key: 'minSelect', label: 'Min values', kind: 'int', empty: 0 },
      maxSelect,
      { key: 'cascadeDelete', label: 'Delete with the related record', kind: 'bool' },
    ],
  },
  json: {
    label: 'JSON',
    options: [{ key: 'maxSize', label: 'Max size (bytes)', kind: 'int', empty: 0 }],
  },
  geoPoint: { label: 'Geo point', options: [] },
  password: { label: 'Password', options: lengthAndPattern },
}

/** Types a user adds (password only exists on auth collections, as a system field). */
export const ADDABLE_TYPES = Object.keys(FIELD_TYPES).filter((t) => t !== 'password')

export interface FieldDraft {
  id?: string
  name: string
  type: string
  required?: boolean
  hidden?: boolean
  presentable?: boolean
  system?: boolean
  [option: string]: unknown
}

export function newField(type: string, existing: readonly FieldDraft[]): FieldDraft {
  let n = 1
  while (existing.some((f) => f.name === `${type}${n}`)) n++
  const field: FieldDraft = { name: `${type}${n}`, type, required: false, hidden: false, presentable: false }
  if (type === 'select' || type === 'relation' || type === 'file') field.maxSelect = 1
  if (type === 'autodate') Object.assign(field, { onCreate: true, onUpdate: false })
  return field
}

/** A field as the server expects it: empty inputs become each option's "none" value. */
export function fieldForServer(field: FieldDraft): FieldDraft {
  const out: FieldDraft = { ...field }
  for (const o of FIELD_TYPES[field.type]?.options ?? []) {
    const v = out[o.key]
    if ((v === undefined || v === null || v === '') && o.empty !== undefined) out[o.key] = o.empty
    if (o.kind === 'list' && typeof v === 'string')
      out[o.key] = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
  }
  return out
}

export const RULES = [
  { key: 'listRule', label: 'List/Search rule' },
  { key: 'viewRule', label: 'View rule' },
  { key: 'createRule', label: 'Create rule' },
  { key: 'updateRule', label: 'Update rule' },
  { key: 'deleteRule', label: 'Delete rule' },
] as const

/** Auth collections' own rules, with the defaults a new auth collection gets. */
export const AUTH_RULES = [
  { key: 'authRule', label: 'Auth rule (who may sign in)', initial: '' },
  { key: 'manageRule', label: 'Manage rule (who may manage other users)', initial: null },
] as const

export type RuleKey = (typeof RULES)[number]['key'] | (typeof AUTH_RULES)[number]['key']
