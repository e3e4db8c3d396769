export type {
  Executor,
  ColumnInfo,
  ColumnKind,
  DialectName,
  ErrorClass,
  GalleyDialect,
  IndexInfo,
  SelectColumn,
} from './dialect.js'
export { openDatabase, type Database, type DatabaseOptions, type Durability } from './database.js'
export { runMigrations, appliedMigrations, type Migration } from './migrations.js'
export { systemTablesMigration } from './system-tables.js'
export { CompiledWrites, MAX_WRITE_SHAPES } from './compiled-writes.js'
export { paginate, type ListParams, type ListResult } from './paginate.js'
