import type { FieldType } from '../field-type.js'
import { autodateField } from './autodate.js'
import { boolField } from './bool.js'
import { dateField } from './date.js'
import { editorField } from './editor.js'
import { emailField } from './email.js'
import { fileField } from './file.js'
import { geoPointField } from './geo-point.js'
import { jsonField } from './json.js'
import { numberField } from './number.js'
import { passwordField } from './password.js'
import { relationField } from './relation.js'
import { selectField } from './select.js'
import { textField } from './text.js'
import { urlField } from './url.js'

/** Every field type by its `type` name. */
export const FIELD_TYPES: ReadonlyMap<string, FieldType> = new Map(
  [
    textField,
    editorField,
    numberField,
    boolField,
    emailField,
    urlField,
    dateField,
    autodateField,
    selectField,
    fileField,
    relationField,
    jsonField,
    passwordField,
    geoPointField,
  ].map((t) => [t.type, t]),
)

export { MAX_PASSWORD_LENGTH } from './password.js'
