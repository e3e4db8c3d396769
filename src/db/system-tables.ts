import type { Migration } from './migrations.js'

/** The system tables every Galley database has. Record tables are created by the schema layer. */
export const systemTablesMigration: Migration = {
  name: '0001_system_tables',
  async up(trx) {
    await trx.schema
      .createTable('_collections')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('system', 'boolean', (c) => c.notNull().defaultTo(false))
      // The whole collection JSON (fields, indexes, rules, options), as the API returns it.
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created', 'text', (c) => c.notNull())
      .addColumn('updated', 'text', (c) => c.notNull())
      .execute()
    await trx.schema.createIndex('idx__collections_name').on('_collections').column('name').unique().execute()
    await trx.schema
      .createTable('_params')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('value', 'text')
      .addColumn('created', 'text', (c) => c.notNull())
      .addColumn('updated', 'text', (c) => c.notNull())
      .execute()
  },
}
