import type { FastifyInstance } from 'fastify'
import { describeS3Error, testS3Connection } from '../../files/index.js'
import { badRequest, fieldError, isJsonObject } from '../../lib/index.js'
import type { SettingsService } from '../../settings/index.js'
import { requireSuperuser } from '../guards.js'

const S3_TEST_FAILED = 'Failed to test the S3 filesystem.'

/** `GET/PATCH /api/settings` and `POST /api/settings/test/s3` (§13.2): superusers only, secrets never returned. */
export function settingsRoutes(settings: SettingsService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addHook('preHandler', async (req) => {
      requireSuperuser(req)
    })
    app.get('/api/settings', async () => settings.toJSON())
    app.patch('/api/settings', async (req) => settings.toJSON(await settings.update(req.body)))

    // As PocketBase: the stored `s3` (storage) or `backups.s3` config gets a test file written,
    // listed and removed; any failure is a 400 whose message carries the raw error.
    app.post('/api/settings/test/s3', async (req, reply) => {
      const filesystem = isJsonObject(req.body) ? req.body.filesystem : undefined
      if (filesystem === undefined || filesystem === '' || filesystem === null)
        throw badRequest(S3_TEST_FAILED, {
          filesystem: fieldError('validation_required', 'Cannot be blank.'),
        })
      if (filesystem !== 'storage' && filesystem !== 'backups')
        throw badRequest(S3_TEST_FAILED, {
          filesystem: fieldError('validation_in_invalid', 'Must be a valid value.'),
        })
      const config = filesystem === 'backups' ? settings.get().backups.s3 : settings.get().s3
      if (!config.enabled)
        throw badRequest(`${S3_TEST_FAILED} Raw error: \nS3 storage filesystem is not enabled`)
      try {
        await testS3Connection(config)
      } catch (err) {
        throw badRequest(`${S3_TEST_FAILED} Raw error: \n${describeS3Error(err)}`, undefined, err)
      }
      return reply.code(204).send()
    })
  }
}
