/**
 * `?expand=` on auth responses (§8.2): the signed-in record is expanded as PocketBase does, with
 * that record as the requester (the request itself carries no token yet), through each target's
 * viewRule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Json = Record<string, unknown>
const PASSWORD = 'auth expand 123'

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`expand on auth responses on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let ann: string
    let teamOfAnn: string
    let lockedOfAnn: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      const su = await g.asSuperuser()
      // Only a team's own owner may view it: the expand must see Ann as the requester.
      const teams = await su.collections.create({
        name: 'teams',
        type: 'base',
        viewRule: 'owner = @request.auth.id',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'owner', type: 'text' },
        ],
      })
      const locked = await su.collections.create({
        name: 'locked',
        type: 'base',
        fields: [{ name: 'name', type: 'text' }],
      })
      const users = await su.collections.getOne('users')
      await su.collections.update('users', {
        fields: [
          ...users.fields,
          { name: 'team', type: 'relation', collectionId: teams.id, maxSelect: 1 },
          { name: 'vault', type: 'relation', collectionId: locked.id, maxSelect: 1 },
        ],
      })
      lockedOfAnn = (await su.collection('locked').create({ name: 'secret' })).id
      const user = await su.collection('users').create({
        email: 'ann@example.com',
        password: PASSWORD,
        passwordConfirm: PASSWORD,
        vault: lockedOfAnn,
      })
      ann = user.id
      teamOfAnn = (await su.collection('teams').create({ name: 'red', owner: ann })).id
      await su.collection('users').update(ann, { team: teamOfAnn })
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it('auth-with-password expands through the target view rules, as the signed-in record', async () => {
      const pb = g.sdk()
      const res = await pb
        .collection('users')
        .authWithPassword('ann@example.com', PASSWORD, { expand: 'team,vault' })
      expect(res.record.expand).toEqual({
        team: expect.objectContaining({ id: teamOfAnn, name: 'red', owner: ann }),
      })
      // the same relation for a guest: the team's view rule refuses it
      const asGuest = await g
        .sdk()
        .collection('users')
        .getOne(ann, { expand: 'team' })
        .catch(() => undefined)
      expect(asGuest).toBeUndefined()
    })

    it('auth-refresh expands too, and fields picks inside the expanded record', async () => {
      const pb = g.sdk()
      await pb.collection('users').authWithPassword('ann@example.com', PASSWORD)
      const res = await fetch(
        `${g.url}/api/collections/users/auth-refresh?expand=team&fields=token,record.expand.team.name`,
        { method: 'POST', headers: { authorization: pb.authStore.token } },
      )
      expect(res.status).toBe(200)
      const body = (await res.json()) as Json
      expect(Object.keys(body).sort()).toEqual(['record', 'token'])
      expect(body.record).toEqual({ expand: { team: { name: 'red' } } })
    })

    it('without expand, no expand key; an unknown path is ignored', async () => {
      const pb = g.sdk()
      const plain = await pb.collection('users').authWithPassword('ann@example.com', PASSWORD)
      expect(plain.record).not.toHaveProperty('expand')
      const unknown = await pb
        .collection('users')
        .authWithPassword('ann@example.com', PASSWORD, { expand: 'nope' })
      expect(unknown.record).not.toHaveProperty('expand')
      expect(unknown.token).toBeTypeOf('string')
    })
  })
}
