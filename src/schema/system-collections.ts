import type { Migration } from '../db/index.js'
import type { CollectionService } from './collection-service.js'
import { autodateFields, makeField } from './defaults.js'

export const SUPERUSERS_COLLECTION_ID = 'pbc_3142635823'
export const SUPERUSERS_COLLECTION_NAME = '_superusers'
export const USERS_COLLECTION_ID = '_pb_users_auth_'

const OWNER_RULE =
  "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId"
const text = (name: string, props = {}) => makeField('text', name, { required: true, ...props })
const refs = () => [text('collectionRef'), text('recordRef')]

/**
 * The collections every Galley database starts with, as PocketBase has them: the `_superusers`
 * auth collection, the default `users`, and the system bookkeeping of the auth flows.
 */
export function systemCollectionsMigration(collections: CollectionService): Migration {
  return {
    name: '0002_system_collections',
    async up(trx) {
      const create = (input: Record<string, unknown>, system = true) =>
        collections.create(input, trx, { system })
      await create({
        id: SUPERUSERS_COLLECTION_ID,
        name: SUPERUSERS_COLLECTION_NAME,
        type: 'auth',
        fields: [...autodateFields()],
        authToken: { duration: 86_400 },
      })
      await create(
        {
          id: USERS_COLLECTION_ID,
          name: 'users',
          type: 'auth',
          listRule: 'id = @request.auth.id',
          viewRule: 'id = @request.auth.id',
          createRule: '',
          updateRule: 'id = @request.auth.id',
          deleteRule: 'id = @request.auth.id',
          fields: [
            makeField('text', 'name', { max: 255 }),
            makeField('file', 'avatar', {
              maxSelect: 1,
              mimeTypes: ['image/jpeg', 'image/png', 'image/svg+xml', 'image/gif', 'image/webp'],
            }),
            ...autodateFields(),
          ],
          oauth2: { mappedFields: { id: '', name: 'name', username: '', avatarURL: 'avatar' } },
        },
        false,
      )
      await create({
        name: '_externalAuths',
        listRule: OWNER_RULE,
        viewRule: OWNER_RULE,
        deleteRule: OWNER_RULE,
        fields: [...refs(), text('provider'), text('providerId'), ...autodateFields()],
        indexes: [
          'CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (`collectionRef`, `recordRef`, `provider`)',
          'CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (`collectionRef`, `provider`, `providerId`)',
        ],
      })
      await create({
        name: '_mfas',
        listRule: OWNER_RULE,
        viewRule: OWNER_RULE,
        fields: [...refs(), text('method'), ...autodateFields()],
        indexes: [
          'CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (`collectionRef`, `recordRef`)',
        ],
      })
      await create({
        name: '_otps',
        listRule: OWNER_RULE,
        viewRule: OWNER_RULE,
        fields: [
          ...refs(),
          makeField('password', 'password', { hidden: true, required: true }),
          makeField('text', 'sentTo', { hidden: true }),
          ...autodateFields(),
        ],
        indexes: [
          'CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (`collectionRef`, `recordRef`)',
        ],
      })
      await create({
        name: '_authOrigins',
        listRule: OWNER_RULE,
        viewRule: OWNER_RULE,
        deleteRule: OWNER_RULE,
        fields: [...refs(), text('fingerprint'), ...autodateFields()],
        indexes: [
          'CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` (`collectionRef`, `recordRef`, `fingerprint`)',
        ],
      })
    },
  }
}
