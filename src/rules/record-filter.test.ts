import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import { postgresDialect } from '../db/dialects/postgres.js'
import { sqliteDialect } from '../db/dialects/sqlite.js'
import { compilerOnly } from '../filter/test-database.test-helper.js'
import { NOW, openFixture, PG_URL, requestAs, type As, type Fixture } from './fixture.test-helper.js'
import { COMPARE_OPS, MACROS, MODIFIERS } from '../filter/ast.js'
import { compileRecordFilter, type RequestContext, type RuleEnv } from './index.js'

/**
 * The golden table of record filters and rules: for each case the exact SQL and parameters on both
 * databases, and the ids it selects, the same on SQLite and PostgreSQL. Fixture: fixture.test-helper.ts.
 * `client: true` compiles a client filter (no hidden fields, listRules of hopped collections);
 * otherwise a rule.
 */

interface Case {
  readonly name: string
  readonly filter: string
  /** The request (default: a guest's GET). */
  readonly as?: As
  readonly client?: true
  readonly collection?: string
  /** The WHERE clause of `select "id" from <collection> where …` and its parameters. */
  readonly sqlite: readonly [sql: string, parameters: readonly unknown[]]
  readonly postgres: readonly [sql: string, parameters: readonly unknown[]]
  readonly ids: readonly string[]
}

/** A PostgreSQL WHERE too long to read inline (strftime's translation): golden/<name>.postgres.sql. */
function golden(name: string): string {
  return readFileSync(new URL(`golden/${name}.postgres.sql`, import.meta.url), 'utf8').trimEnd()
}

function envFor(fx: Fixture, name: DialectName, request: RequestContext): RuleEnv {
  return {
    findCollection: (idOrName) => fx.collections.find(idOrName),
    dialect: name === 'sqlite' ? sqliteDialect : postgresDialect,
    request,
    now: NOW,
  }
}

const CASES: readonly Case[] = [
  {
    name: 'text equals',
    filter: 'title = "Hello World"',
    client: true,
    sqlite: ['"posts"."title" = ?', ['Hello World']],
    postgres: ['"posts"."title" = $1', ['Hello World']],
    ids: ['p1'],
  },
  {
    name: 'text equals empty',
    filter: 'title = ""',
    client: true,
    sqlite: ['("posts"."title" = \'\' OR "posts"."title" IS NULL)', []],
    postgres: ['("posts"."title" = \'\' OR "posts"."title" IS NULL)', []],
    ids: ['p3'],
  },
  {
    name: 'text not empty',
    filter: 'title != ""',
    client: true,
    sqlite: ['("posts"."title" <> \'\' AND "posts"."title" IS NOT NULL)', []],
    postgres: ['("posts"."title" <> \'\' AND "posts"."title" IS NOT NULL)', []],
    ids: ['p1', 'p2', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'contains',
    filter: 'title ~ "o"',
    client: true,
    sqlite: ['"posts"."title" LIKE ? ESCAPE \'\\\'', ['%o%']],
    postgres: ['"posts"."title" ILIKE $1 ESCAPE \'\\\'', ['%o%']],
    ids: ['p1', 'p2', 'p4', 'p5'],
  },
  {
    name: 'starts with (pattern)',
    filter: 'title ~ "go%"',
    client: true,
    sqlite: ['"posts"."title" LIKE ? ESCAPE \'\\\'', ['go%']],
    postgres: ['"posts"."title" ILIKE $1 ESCAPE \'\\\'', ['go%']],
    ids: ['p4'],
  },
  {
    name: 'LIKE wildcards in a literal are escaped',
    filter: 'title ~ "_"',
    client: true,
    sqlite: ['"posts"."title" LIKE ? ESCAPE \'\\\'', ['%\\_%']],
    postgres: ['"posts"."title" ILIKE $1 ESCAPE \'\\\'', ['%\\_%']],
    ids: ['p4'],
  },
  {
    name: 'number greater',
    filter: 'views > 5',
    client: true,
    sqlite: ['"posts"."views" > ?', [5]],
    postgres: ['"posts"."views" > $1', [5]],
    ids: ['p1', 'p4', 'p5'],
  },
  {
    name: 'number less or equal',
    filter: 'views <= 0',
    client: true,
    sqlite: ['"posts"."views" <= ?', [0]],
    postgres: ['"posts"."views" <= $1', [0]],
    ids: ['p2', 'p3', 'p6', 'p7'],
  },
  {
    name: 'bool true',
    filter: 'published = true',
    client: true,
    sqlite: ['"posts"."published" = ?', [1]],
    postgres: ['"posts"."published" = $1', [true]],
    ids: ['p1', 'p3', 'p5'],
  },
  {
    name: 'bool not true',
    filter: 'published != true',
    client: true,
    sqlite: ['"posts"."published" IS NOT ?', [1]],
    postgres: ['"posts"."published" IS DISTINCT FROM $1', [true]],
    ids: ['p2', 'p4', 'p6', 'p7'],
  },
  {
    name: 'date macro @todayStart',
    filter: 'created >= @todayStart',
    client: true,
    sqlite: ['"posts"."created" >= ?', ['2024-06-15 00:00:00.000Z']],
    postgres: ['"posts"."created" >= $1', ['2024-06-15 00:00:00.000Z']],
    ids: ['p3', 'p5'],
  },
  {
    name: 'date macro @yesterday',
    filter: 'created > @yesterday',
    client: true,
    sqlite: ['"posts"."created" > ?', ['2024-06-14 08:00:00.000Z']],
    postgres: ['"posts"."created" > $1', ['2024-06-14 08:00:00.000Z']],
    ids: ['p2', 'p3', 'p5'],
  },
  {
    name: ':lower',
    filter: 'title:lower = "hello world"',
    client: true,
    sqlite: ['LOWER("posts"."title") = ?', ['hello world']],
    postgres: ['LOWER("posts"."title") = $1', ['hello world']],
    ids: ['p1'],
  },
  {
    name: 'or of ids',
    filter: 'id = "p1" || id = "p2"',
    client: true,
    sqlite: ['("posts"."id" = ? OR "posts"."id" = ?)', ['p1', 'p2']],
    postgres: ['("posts"."id" = $1 OR "posts"."id" = $2)', ['p1', 'p2']],
    ids: ['p1', 'p2'],
  },
  {
    name: 'grouping',
    filter: '(views > 5 || title = "") && published = true',
    client: true,
    sqlite: [
      '(("posts"."views" > ? OR ("posts"."title" = \'\' OR "posts"."title" IS NULL)) AND "posts"."published" = ?)',
      [5, 1],
    ],
    postgres: [
      '(("posts"."views" > $1 OR ("posts"."title" = \'\' OR "posts"."title" IS NULL)) AND "posts"."published" = $2)',
      [5, true],
    ],
    ids: ['p1', 'p3', 'p5'],
  },
  {
    name: 'single relation field',
    filter: 'author.name = "Ann"',
    sqlite: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = ?',
      ['Ann'],
    ],
    postgres: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = $1',
      ['Ann'],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'rel.id is the relation itself',
    filter: 'author.id = "u1"',
    sqlite: ['"posts"."author" = ?', ['u1']],
    postgres: ['"posts"."author" = $1', ['u1']],
    ids: ['p1', 'p4'],
  },
  {
    name: 'empty single relation',
    filter: 'author = ""',
    sqlite: ['("posts"."author" = \'\' OR "posts"."author" IS NULL)', []],
    postgres: ['("posts"."author" = \'\' OR "posts"."author" IS NULL)', []],
    ids: ['p3', 'p7'],
  },
  {
    name: 'field of a missing relation is NULL',
    filter: 'author.name = ""',
    sqlite: [
      '((SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = \'\' OR (SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") IS NULL)',
      [],
    ],
    postgres: [
      '((SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = \'\' OR (SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") IS NULL)',
      [],
    ],
    ids: ['p3', 'p5', 'p7'],
  },
  {
    name: 'bool through a relation',
    filter: 'author.verified = true',
    sqlite: [
      '(SELECT "users~1"."verified" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = ?',
      [1],
    ],
    postgres: [
      '(SELECT "users~1"."verified" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = $1',
      [true],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'two hops',
    filter: 'parent.parent.title = "Hello World"',
    sqlite: [
      '(SELECT "posts~2"."title" FROM "posts" AS "posts~1" JOIN "posts" AS "posts~2" ON "posts~2"."id" = "posts~1"."parent" WHERE "posts~1"."id" = "posts"."parent") = ?',
      ['Hello World'],
    ],
    postgres: [
      '(SELECT "posts~2"."title" FROM "posts" AS "posts~1" JOIN "posts" AS "posts~2" ON "posts~2"."id" = "posts~1"."parent" WHERE "posts~1"."id" = "posts"."parent") = $1',
      ['Hello World'],
    ],
    ids: ['p3'],
  },
  {
    name: 'six hops (the limit)',
    filter: 'parent.parent.parent.parent.parent.parent.title = "Hello World"',
    sqlite: [
      '(SELECT "posts~6"."title" FROM "posts" AS "posts~1" JOIN "posts" AS "posts~2" ON "posts~2"."id" = "posts~1"."parent" JOIN "posts" AS "posts~3" ON "posts~3"."id" = "posts~2"."parent" JOIN "posts" AS "posts~4" ON "posts~4"."id" = "posts~3"."parent" JOIN "posts" AS "posts~5" ON "posts~5"."id" = "posts~4"."parent" JOIN "posts" AS "posts~6" ON "posts~6"."id" = "posts~5"."parent" WHERE "posts~1"."id" = "posts"."parent") = ?',
      ['Hello World'],
    ],
    postgres: [
      '(SELECT "posts~6"."title" FROM "posts" AS "posts~1" JOIN "posts" AS "posts~2" ON "posts~2"."id" = "posts~1"."parent" JOIN "posts" AS "posts~3" ON "posts~3"."id" = "posts~2"."parent" JOIN "posts" AS "posts~4" ON "posts~4"."id" = "posts~3"."parent" JOIN "posts" AS "posts~5" ON "posts~5"."id" = "posts~4"."parent" JOIN "posts" AS "posts~6" ON "posts~6"."id" = "posts~5"."parent" WHERE "posts~1"."id" = "posts"."parent") = $1',
      ['Hello World'],
    ],
    ids: ['p7'],
  },
  {
    name: 'client hop ANDs the listRule (guest)',
    filter: 'author.name = "Ann"',
    client: true,
    sqlite: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND ("users~1"."id" = \'\' OR "users~1"."id" IS NULL)) = ?',
      ['Ann'],
    ],
    postgres: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND ("users~1"."id" = \'\' OR "users~1"."id" IS NULL)) = $1',
      ['Ann'],
    ],
    ids: [],
  },
  {
    name: 'client hop ANDs the listRule (u1)',
    filter: 'author.name = "Ann"',
    as: 'u1',
    client: true,
    sqlite: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ?) = ?',
      ['u1', 'Ann'],
    ],
    postgres: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = $1) = $2',
      ['u1', 'Ann'],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'client hop ANDs the listRule (u2)',
    filter: 'author.name = "Ann"',
    as: 'u2',
    client: true,
    sqlite: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ?) = ?',
      ['u2', 'Ann'],
    ],
    postgres: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = $1) = $2',
      ['u2', 'Ann'],
    ],
    ids: [],
  },
  {
    name: 'client email needs emailVisibility (visible)',
    filter: 'author.email = "ann@example.com"',
    as: 'u1',
    client: true,
    sqlite: [
      '((SELECT "users~1"."email" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ?) = ? AND (SELECT "users~1"."emailVisibility" = TRUE FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ?))',
      ['u1', 'ann@example.com', 'u1'],
    ],
    postgres: [
      '((SELECT "users~1"."email" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = $1) = $2 AND (SELECT "users~1"."emailVisibility" = TRUE FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = $3))',
      ['u1', 'ann@example.com', 'u1'],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'client email needs emailVisibility (hidden)',
    filter: 'author.email = "bob@example.com"',
    as: 'u2',
    client: true,
    sqlite: [
      '((SELECT "users~1"."email" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ?) = ? AND (SELECT "users~1"."emailVisibility" = TRUE FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ?))',
      ['u2', 'bob@example.com', 'u2'],
    ],
    postgres: [
      '((SELECT "users~1"."email" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = $1) = $2 AND (SELECT "users~1"."emailVisibility" = TRUE FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = $3))',
      ['u2', 'bob@example.com', 'u2'],
    ],
    ids: [],
  },
  {
    name: 'rules see every email',
    filter: 'author.email = "bob@example.com"',
    sqlite: [
      '(SELECT "users~1"."email" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = ?',
      ['bob@example.com'],
    ],
    postgres: [
      '(SELECT "users~1"."email" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") = $1',
      ['bob@example.com'],
    ],
    ids: ['p2', 'p6'],
  },
  {
    name: 'rules see hidden fields',
    filter: 'secret = "s1"',
    sqlite: ['"posts"."secret" = ?', ['s1']],
    postgres: ['"posts"."secret" = $1', ['s1']],
    ids: ['p1'],
  },
  {
    name: 'client rel.id needs no join',
    filter: 'author.id = "u1"',
    client: true,
    sqlite: ['"posts"."author" = ?', ['u1']],
    postgres: ['"posts"."author" = $1', ['u1']],
    ids: ['p1', 'p4'],
  },
  {
    name: 'any-of',
    filter: 'tags.name ?= "go"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = ?)',
      ['go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = $1)',
      ['go'],
    ],
    ids: ['p1', 'p3'],
  },
  {
    name: 'client any-of into a public collection',
    filter: 'tags.name ?= "go"',
    client: true,
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = ?)',
      ['go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = $1)',
      ['go'],
    ],
    ids: ['p1', 'p3'],
  },
  {
    name: 'match-all equals',
    filter: 'tags.name = "go"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" = ?))))',
      ['go', 'go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" = $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" = $2))))',
      ['go', 'go'],
    ],
    ids: ['p3'],
  },
  {
    name: 'match-all not equals (empty set true)',
    filter: 'tags.name != "go"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" IS NOT ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" IS NOT ?))))',
      ['go', 'go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" IS DISTINCT FROM $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" IS DISTINCT FROM $2))))',
      ['go', 'go'],
    ],
    ids: ['p2', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'any-of not equals (empty set: NULL row)',
    filter: 'tags.name ?!= "go"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" IS NOT ?)',
      ['go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" IS DISTINCT FROM $1)',
      ['go'],
    ],
    ids: ['p1', 'p2', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'match-all contains (empty set false)',
    filter: 'tags.name ~ "s"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" LIKE ? ESCAPE \'\\\' AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" LIKE ? ESCAPE \'\\\'))))',
      ['%s%', '%s%'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" ILIKE $1 ESCAPE \'\\\' AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" ILIKE $2 ESCAPE \'\\\'))))',
      ['%s%', '%s%'],
    ],
    ids: ['p4', 'p5'],
  },
  {
    name: 'match-all not contains (empty set true)',
    filter: 'tags.name !~ "o"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE (("tags~2"."name" IS NULL OR "tags~2"."name" NOT LIKE ? ESCAPE \'\\\') AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT (("tags~4"."name" IS NULL OR "tags~4"."name" NOT LIKE ? ESCAPE \'\\\')))))',
      ['%o%', '%o%'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE (("tags~2"."name" IS NULL OR "tags~2"."name" NOT ILIKE $1 ESCAPE \'\\\') AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT (("tags~4"."name" IS NULL OR "tags~4"."name" NOT ILIKE $2 ESCAPE \'\\\')))))',
      ['%o%', '%o%'],
    ],
    ids: ['p2', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'any-of not contains (empty set false)',
    filter: 'tags.name ?!~ "o"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" NOT LIKE ? ESCAPE \'\\\')',
      ['%o%'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" NOT ILIKE $1 ESCAPE \'\\\')',
      ['%o%'],
    ],
    ids: ['p1', 'p4', 'p5'],
  },
  {
    name: 'match-all equals empty: no values',
    filter: 'tags.name = ""',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE (("tags~2"."name" = \'\' OR "tags~2"."name" IS NULL) AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT (("tags~4"."name" = \'\' OR "tags~4"."name" IS NULL)))))',
      [],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE (("tags~2"."name" = \'\' OR "tags~2"."name" IS NULL) AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT (("tags~4"."name" = \'\' OR "tags~4"."name" IS NULL)))))',
      [],
    ],
    ids: ['p2', 'p6', 'p7'],
  },
  {
    name: 'match-all greater (empty set false)',
    filter: 'tags.name > "a"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" > ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" > ?))))',
      ['a', 'a'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" > $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" > $2))))',
      ['a', 'a'],
    ],
    ids: ['p1', 'p3', 'p4', 'p5'],
  },
  {
    name: 'multi rel.id joins',
    filter: 'tags.id ?= "t3"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."id" = ?)',
      ['t3'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."id" = $1)',
      ['t3'],
    ],
    ids: ['p4', 'p5'],
  },
  {
    name: ':each of a multiple relation',
    filter: 'tags:each ?= "gone"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE WHERE "each~1"."value" = ?)',
      ['gone'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE WHERE "each~1"."value" = $1)',
      ['gone'],
    ],
    ids: ['p4'],
  },
  {
    name: ':length of a multiple relation (empty)',
    filter: 'tags:length = 0',
    sqlite: [
      'COALESCE(json_array_length(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END), 0) = ?',
      [0],
    ],
    postgres: ['CAST(COALESCE(jsonb_array_length("posts"."tags"), 0) AS DOUBLE PRECISION) = $1', [0]],
    ids: ['p2', 'p6', 'p7'],
  },
  {
    name: ':length of a multiple relation',
    filter: 'tags:length > 2',
    sqlite: [
      'COALESCE(json_array_length(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END), 0) > ?',
      [2],
    ],
    postgres: ['CAST(COALESCE(jsonb_array_length("posts"."tags"), 0) AS DOUBLE PRECISION) > $1', [2]],
    ids: ['p4'],
  },
  {
    name: 'same path shares the row (and)',
    filter: 'tags.name ?= "go" && tags.name ?= "js"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" = ? AND "tags~2"."name" = ?))',
      ['go', 'js'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" = $1 AND "tags~2"."name" = $2))',
      ['go', 'js'],
    ],
    ids: [],
  },
  {
    name: 'or quantifies each branch',
    filter: 'tags.name ?= "go" || tags.name ?= "js"',
    sqlite: [
      '(EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = ?) OR EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = ?))',
      ['go', 'js'],
    ],
    postgres: [
      '(EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = $1) OR EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = $2))',
      ['go', 'js'],
    ],
    ids: ['p1', 'p3', 'p4'],
  },
  {
    name: 'multi inside a group',
    filter: '(tags.name ?= "go" && views > 5) || title = ""',
    sqlite: [
      '((EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = ?) AND "posts"."views" > ?) OR ("posts"."title" = \'\' OR "posts"."title" IS NULL))',
      ['go', 5],
    ],
    postgres: [
      '((EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = $1) AND "posts"."views" > $2) OR ("posts"."title" = \'\' OR "posts"."title" IS NULL))',
      ['go', 5],
    ],
    ids: ['p1', 'p3'],
  },
  {
    name: 'multi and single relation',
    filter: 'tags.name ?= "rust" && author.name = "Ann"',
    sqlite: [
      '(EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = ?) AND (SELECT "users~3"."name" FROM "users" AS "users~3" WHERE "users~3"."id" = "posts"."author") = ?)',
      ['rust', 'Ann'],
    ],
    postgres: [
      '(EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" = $1) AND (SELECT "users~3"."name" FROM "users" AS "users~3" WHERE "users~3"."id" = "posts"."author") = $2)',
      ['rust', 'Ann'],
    ],
    ids: ['p4'],
  },
  {
    name: ':lower on multi',
    filter: 'tags.name:lower ?= "GO"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE LOWER("tags~2"."name") = ?)',
      ['GO'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE LOWER("tags~2"."name") = $1)',
      ['GO'],
    ],
    ids: [],
  },
  {
    name: ':lower on multi (lower literal)',
    filter: 'tags.name:lower ?= "go"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE LOWER("tags~2"."name") = ?)',
      ['go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE LOWER("tags~2"."name") = $1)',
      ['go'],
    ],
    ids: ['p1', 'p3'],
  },
  {
    name: 'many vs many match-all',
    filter: 'tags.name != labels:each',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~3" ON TRUE WHERE (COALESCE("tags~2"."name", \'\') <> COALESCE("each~3"."value", \'\') AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~1" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~4" ON TRUE LEFT JOIN "tags" AS "tags~5" ON "tags~5"."id" = "each~4"."value", (SELECT 1) AS "~2" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~6" ON TRUE WHERE NOT (COALESCE("tags~5"."name", \'\') <> COALESCE("each~6"."value", \'\')))))',
      [],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~3"("value") ON TRUE WHERE (COALESCE("tags~2"."name", \'\') <> COALESCE("each~3"."value", \'\') AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~1" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~4"("value") ON TRUE LEFT JOIN "tags" AS "tags~5" ON "tags~5"."id" = "each~4"."value", (SELECT 1) AS "~2" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~6"("value") ON TRUE WHERE NOT (COALESCE("tags~5"."name", \'\') <> COALESCE("each~6"."value", \'\')))))',
      [],
    ],
    ids: ['p1', 'p3', 'p4', 'p5'],
  },
  {
    name: ':each of a path shares its rows with the path',
    filter: 'tags.id ?= tags:each',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE COALESCE("tags~2"."id", \'\') = COALESCE("each~1"."value", \'\'))',
      [],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE COALESCE("tags~2"."id", \'\') = COALESCE("each~1"."value", \'\'))',
      [],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'back-relation any-of',
    filter: 'comments_via_post.body ?= "nice"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE "comments~1"."body" = ?)',
      ['nice'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE "comments~1"."body" = $1)',
      ['nice'],
    ],
    ids: ['p1'],
  },
  {
    name: 'back-relation match-all',
    filter: 'comments_via_post.body = "meh"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE ("comments~1"."body" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~2" ON "comments~2"."post" = "posts"."id" WHERE NOT ("comments~2"."body" = ?))))',
      ['meh', 'meh'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE ("comments~1"."body" = $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~2" ON "comments~2"."post" = "posts"."id" WHERE NOT ("comments~2"."body" = $2))))',
      ['meh', 'meh'],
    ],
    ids: ['p2'],
  },
  {
    name: 'back-relation match-all on a relation',
    filter: 'comments_via_post.author = "u2"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE ("comments~1"."author" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~2" ON "comments~2"."post" = "posts"."id" WHERE NOT ("comments~2"."author" = ?))))',
      ['u2', 'u2'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE ("comments~1"."author" = $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~2" ON "comments~2"."post" = "posts"."id" WHERE NOT ("comments~2"."author" = $2))))',
      ['u2', 'u2'],
    ],
    ids: ['p2'],
  },
  {
    name: 'no back-related records',
    filter: 'comments_via_post.id = ""',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE (("comments~1"."id" = \'\' OR "comments~1"."id" IS NULL) AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~2" ON "comments~2"."post" = "posts"."id" WHERE NOT (("comments~2"."id" = \'\' OR "comments~2"."id" IS NULL)))))',
      [],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE (("comments~1"."id" = \'\' OR "comments~1"."id" IS NULL) AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~2" ON "comments~2"."post" = "posts"."id" WHERE NOT (("comments~2"."id" = \'\' OR "comments~2"."id" IS NULL)))))',
      [],
    ],
    ids: ['p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'unique back-relation is single',
    filter: 'covers_via_post.caption = "sunset"',
    sqlite: [
      '(SELECT "covers~1"."caption" FROM "covers" AS "covers~1" WHERE "covers~1"."post" = "posts"."id" LIMIT 1) = ?',
      ['sunset'],
    ],
    postgres: [
      '(SELECT "covers~1"."caption" FROM "covers" AS "covers~1" WHERE "covers~1"."post" = "posts"."id" LIMIT 1) = $1',
      ['sunset'],
    ],
    ids: ['p1'],
  },
  {
    name: 'unique back-relation missing is NULL',
    filter: 'covers_via_post.caption = ""',
    sqlite: [
      '((SELECT "covers~1"."caption" FROM "covers" AS "covers~1" WHERE "covers~1"."post" = "posts"."id" LIMIT 1) = \'\' OR (SELECT "covers~1"."caption" FROM "covers" AS "covers~1" WHERE "covers~1"."post" = "posts"."id" LIMIT 1) IS NULL)',
      [],
    ],
    postgres: [
      '((SELECT "covers~1"."caption" FROM "covers" AS "covers~1" WHERE "covers~1"."post" = "posts"."id" LIMIT 1) = \'\' OR (SELECT "covers~1"."caption" FROM "covers" AS "covers~1" WHERE "covers~1"."post" = "posts"."id" LIMIT 1) IS NULL)',
      [],
    ],
    ids: ['p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'back-relation then relation',
    filter: 'comments_via_post.author.name ?= "Ann"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" LEFT JOIN "users" AS "users~2" ON "users~2"."id" = "comments~1"."author" WHERE "users~2"."name" = ?)',
      ['Ann'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" LEFT JOIN "users" AS "users~2" ON "users~2"."id" = "comments~1"."author" WHERE "users~2"."name" = $1)',
      ['Ann'],
    ],
    ids: ['p1'],
  },
  {
    name: 'client back-relation',
    filter: 'comments_via_post.body ?= "nice"',
    client: true,
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE "comments~1"."body" = ?)',
      ['nice'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE "comments~1"."body" = $1)',
      ['nice'],
    ],
    ids: ['p1'],
  },
  {
    name: 'back-relation from users',
    filter: 'posts_via_author.title ?= "Hello World"',
    collection: 'users',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "posts" AS "posts~1" ON "posts~1"."author" = "users"."id" WHERE "posts~1"."title" = ?)',
      ['Hello World'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "posts" AS "posts~1" ON "posts~1"."author" = "users"."id" WHERE "posts~1"."title" = $1)',
      ['Hello World'],
    ],
    ids: ['u1'],
  },
  {
    name: '@collection join shares the row (u1)',
    filter: '@collection.members.user ?= @request.auth.id && @collection.members.post ?= id',
    as: 'u1',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = ? AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u1'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = $1 AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u1'],
    ],
    ids: ['p1'],
  },
  {
    name: '@collection join shares the row (u2)',
    filter: '@collection.members.user ?= @request.auth.id && @collection.members.post ?= id',
    as: 'u2',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = ? AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u2'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = $1 AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u2'],
    ],
    ids: ['p1', 'p2'],
  },
  {
    name: '@collection alias (u1)',
    filter:
      '@collection.members:m.user ?= @request.auth.id && @collection.members:m.role ?= "owner" && @collection.members:m.post ?= id',
    as: 'u1',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = ? AND "members~1"."role" = ? AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u1', 'owner'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = $1 AND "members~1"."role" = $2 AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u1', 'owner'],
    ],
    ids: ['p1'],
  },
  {
    name: '@collection alias (u2)',
    filter:
      '@collection.members:m.user ?= @request.auth.id && @collection.members:m.role ?= "owner" && @collection.members:m.post ?= id',
    as: 'u2',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = ? AND "members~1"."role" = ? AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u2', 'owner'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = $1 AND "members~1"."role" = $2 AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\')))',
      ['u2', 'owner'],
    ],
    ids: [],
  },
  {
    name: 'two aliases of one collection',
    filter:
      '@collection.members:a.user ?= "u1" && @collection.members:a.post ?= id && @collection.members:b.user ?= "u2" && @collection.members:b.post ?= id',
    sqlite: [
      '(EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = ? AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\'))) AND EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~2" ON TRUE WHERE ("members~2"."user" = ? AND COALESCE("members~2"."post", \'\') = COALESCE("posts"."id", \'\'))))',
      ['u1', 'u2'],
    ],
    postgres: [
      '(EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE ("members~1"."user" = $1 AND COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\'))) AND EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~2" ON TRUE WHERE ("members~2"."user" = $2 AND COALESCE("members~2"."post", \'\') = COALESCE("posts"."id", \'\'))))',
      ['u1', 'u2'],
    ],
    ids: ['p1'],
  },
  {
    name: '@collection empty: != is true',
    filter: '@collection.empties.name != "a"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~1" ON TRUE WHERE ("empties~1"."name" IS NOT ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~2" ON TRUE WHERE NOT ("empties~2"."name" IS NOT ?))))',
      ['a', 'a'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~1" ON TRUE WHERE ("empties~1"."name" IS DISTINCT FROM $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~2" ON TRUE WHERE NOT ("empties~2"."name" IS DISTINCT FROM $2))))',
      ['a', 'a'],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@collection empty: = is false',
    filter: '@collection.empties.name = "a"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~1" ON TRUE WHERE ("empties~1"."name" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~2" ON TRUE WHERE NOT ("empties~2"."name" = ?))))',
      ['a', 'a'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~1" ON TRUE WHERE ("empties~1"."name" = $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "empties" AS "empties~2" ON TRUE WHERE NOT ("empties~2"."name" = $2))))',
      ['a', 'a'],
    ],
    ids: [],
  },
  {
    name: '@collection any-of',
    filter: '@collection.tags.name ?= "rust"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON TRUE WHERE "tags~1"."name" = ?)',
      ['rust'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON TRUE WHERE "tags~1"."name" = $1)',
      ['rust'],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@collection match-all',
    filter: '@collection.tags.name = "rust"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON TRUE WHERE ("tags~1"."name" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~2" ON TRUE WHERE NOT ("tags~2"."name" = ?))))',
      ['rust', 'rust'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON TRUE WHERE ("tags~1"."name" = $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~2" ON TRUE WHERE NOT ("tags~2"."name" = $2))))',
      ['rust', 'rust'],
    ],
    ids: [],
  },
  {
    name: 'guest is not authenticated',
    filter: '@request.auth.id != ""',
    sqlite: ['FALSE', []],
    postgres: ['FALSE', []],
    ids: [],
  },
  {
    name: 'user is authenticated',
    filter: '@request.auth.id != ""',
    as: 'u1',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'owner rule (user)',
    filter: 'author = @request.auth.id',
    as: 'u1',
    sqlite: ['"posts"."author" = ?', ['u1']],
    postgres: ['"posts"."author" = $1', ['u1']],
    ids: ['p1', 'p4'],
  },
  {
    name: 'owner rule (guest: NULL)',
    filter: 'author = @request.auth.id',
    sqlite: ['("posts"."author" = \'\' OR "posts"."author" IS NULL)', []],
    postgres: ['("posts"."author" = \'\' OR "posts"."author" IS NULL)', []],
    ids: ['p3', 'p7'],
  },
  {
    name: '@request.auth.verified',
    filter: '@request.auth.verified = true',
    as: 'u1',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.auth.verified false',
    filter: '@request.auth.verified = true',
    as: 'u2',
    sqlite: ['FALSE', []],
    postgres: ['FALSE', []],
    ids: [],
  },
  {
    name: '@request.auth.collectionName',
    filter: '@request.auth.collectionName = "users"',
    as: 'u1',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.auth.emailVisibility',
    filter: '@request.auth.emailVisibility = false',
    as: 'u2',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.auth.email',
    filter: '@request.auth.email = "bob@example.com"',
    as: 'u2',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.auth other field joins',
    filter: '@request.auth.name = author.name',
    as: 'u1',
    sqlite: [
      'COALESCE((SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = ?), \'\') = COALESCE((SELECT "users~2"."name" FROM "users" AS "users~2" WHERE "users~2"."id" = "posts"."author"), \'\')',
      ['u1'],
    ],
    postgres: [
      'COALESCE((SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = $1), \'\') = COALESCE((SELECT "users~2"."name" FROM "users" AS "users~2" WHERE "users~2"."id" = "posts"."author"), \'\')',
      ['u1'],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: '@request.auth back-relation',
    filter: '@request.auth.posts_via_author.views ?> 50',
    as: 'u1',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "users" AS "users~1" ON "users~1"."id" = ? LEFT JOIN "posts" AS "posts~2" ON "posts~2"."author" = "users~1"."id" WHERE "posts~2"."views" > ?)',
      ['u1', 50],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "users" AS "users~1" ON "users~1"."id" = $1 LEFT JOIN "posts" AS "posts~2" ON "posts~2"."author" = "users~1"."id" WHERE "posts~2"."views" > $2)',
      ['u1', 50],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.auth field of a guest is NULL',
    filter: '@request.auth.name = ""',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.auth.id:isset (guest)',
    filter: '@request.auth.id:isset = true',
    sqlite: ['FALSE', []],
    postgres: ['FALSE', []],
    ids: [],
  },
  {
    name: 'body value',
    filter: '@request.body.title = title',
    as: 'body',
    sqlite: ['? = "posts"."title"', ['Hello World']],
    postgres: ['$1 = "posts"."title"', ['Hello World']],
    ids: ['p1'],
  },
  {
    name: 'multipart number converted',
    filter: '@request.body.views = views',
    as: 'body',
    sqlite: ['? = "posts"."views"', [10]],
    postgres: ['$1 = "posts"."views"', [10]],
    ids: ['p1', 'p5'],
  },
  {
    name: 'multipart bool converted',
    filter: '@request.body.published = true',
    as: 'body',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'body :each any-of',
    filter: '@request.body.tags:each ?= "t3"',
    as: 'body',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(?) AS "each~1" ON TRUE WHERE "each~1"."value" = ?)',
      ['["t1","t3"]', 't3'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text(CAST($1 AS jsonb)) AS "each~1"("value") ON TRUE WHERE "each~1"."value" = $2)',
      ['["t1","t3"]', 't3'],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'body :each match-all',
    filter: '@request.body.tags:each = "t3"',
    as: 'body',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(?) AS "each~1" ON TRUE WHERE ("each~1"."value" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(?) AS "each~2" ON TRUE WHERE NOT ("each~2"."value" = ?))))',
      ['["t1","t3"]', 't3', '["t1","t3"]', 't3'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text(CAST($1 AS jsonb)) AS "each~1"("value") ON TRUE WHERE ("each~1"."value" = $2 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text(CAST($3 AS jsonb)) AS "each~2"("value") ON TRUE WHERE NOT ("each~2"."value" = $4))))',
      ['["t1","t3"]', 't3', '["t1","t3"]', 't3'],
    ],
    ids: [],
  },
  {
    name: 'body :length',
    filter: '@request.body.tags:length = 2',
    as: 'body',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'body relation any-of',
    filter: '@request.body.tags.name ?= "rust"',
    as: 'body',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON EXISTS (SELECT 1 FROM json_each(?) AS "~j" WHERE "~j"."value" = "tags~1"."id") WHERE "tags~1"."name" = ?)',
      ['["t1","t3"]', 'rust'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON CAST($1 AS jsonb) @> jsonb_build_array("tags~1"."id") WHERE "tags~1"."name" = $2)',
      ['["t1","t3"]', 'rust'],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'body relation match-all',
    filter: '@request.body.tags.name = "go"',
    as: 'body',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON EXISTS (SELECT 1 FROM json_each(?) AS "~j" WHERE "~j"."value" = "tags~1"."id") WHERE ("tags~1"."name" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~2" ON EXISTS (SELECT 1 FROM json_each(?) AS "~j" WHERE "~j"."value" = "tags~2"."id") WHERE NOT ("tags~2"."name" = ?))))',
      ['["t1","t3"]', 'go', '["t1","t3"]', 'go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON CAST($1 AS jsonb) @> jsonb_build_array("tags~1"."id") WHERE ("tags~1"."name" = $2 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~2" ON CAST($3 AS jsonb) @> jsonb_build_array("tags~2"."id") WHERE NOT ("tags~2"."name" = $4))))',
      ['["t1","t3"]', 'go', '["t1","t3"]', 'go'],
    ],
    ids: [],
  },
  {
    name: 'body single relation',
    filter: '@request.body.author.name = "Ann"',
    as: 'body',
    sqlite: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = ?) = ?',
      ['u1', 'Ann'],
    ],
    postgres: [
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = $1) = $2',
      ['u1', 'Ann'],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: ':changed text',
    filter: '@request.body.title:changed = false',
    as: 'body',
    sqlite: ['(? IS NOT "posts"."title") = ?', ['Hello World', 0]],
    postgres: ['($1 IS DISTINCT FROM "posts"."title") = $2', ['Hello World', false]],
    ids: ['p1'],
  },
  {
    name: ':changed number',
    filter: '@request.body.views:changed = true',
    as: 'body',
    sqlite: ['(? IS NOT "posts"."views") = ?', [10, 1]],
    postgres: ['($1 IS DISTINCT FROM "posts"."views") = $2', [10, true]],
    ids: ['p2', 'p3', 'p4', 'p6', 'p7'],
  },
  {
    name: ':changed multiple select',
    filter: '@request.body.labels:changed = false',
    as: 'body',
    sqlite: ['(? IS NOT "posts"."labels") = ?', ['["a","b"]', 0]],
    postgres: [
      '($1 IS DISTINCT FROM (CASE WHEN "posts"."labels" IS NULL THEN NULL ELSE (SELECT \'[\' || COALESCE(string_agg(to_json("~e"."v")::text, \',\' ORDER BY "~e"."n"), \'\') || \']\' FROM jsonb_array_elements_text("posts"."labels") WITH ORDINALITY AS "~e"("v", "n")) END COLLATE "C")) = $2',
      ['["a","b"]', false],
    ],
    ids: ['p1'],
  },
  {
    name: ':changed json',
    filter: '@request.body.meta:changed = false',
    as: 'body',
    sqlite: ['("posts"."meta" IS NOT json(?)) = ?', ['{"status":"draft"}', 0]],
    postgres: ['("posts"."meta" IS DISTINCT FROM CAST($1 AS jsonb)) = $2', ['{"status":"draft"}', false]],
    ids: [],
  },
  {
    name: ':changed not submitted',
    filter: '@request.body.secret:changed = false',
    as: 'body',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: ':isset missing',
    filter: '@request.body.missing:isset = false',
    as: 'body',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: ':isset and :lower',
    filter: '@request.body.title:isset = true && @request.body.title:lower = "hello world"',
    as: 'body',
    sqlite: ['(TRUE AND TRUE)', []],
    postgres: ['(TRUE AND TRUE)', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'body JSON path vs field JSON path',
    filter: '@request.body.meta.status = meta.status',
    as: 'body',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.status', 'draft']],
    postgres: [
      '(SELECT (CASE WHEN jsonb_typeof("~j"."v") = \'string\' THEN ("~j"."v" #>> \'{}\') END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      ['draft', ['status']],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'query value',
    filter: '@request.query.page = "2"',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'missing query key is NULL',
    filter: '@request.query.missing = null',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'header (snake_case)',
    filter: '@request.headers.x_token = "abc"',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'method',
    filter: '@request.method = "GET"',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'context',
    filter: '@request.context = "realtime"',
    as: 'realtime',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'query value against a field',
    filter: 'title = @request.query.q',
    sqlite: ['"posts"."title" = ?', ['Hello World']],
    postgres: ['"posts"."title" = $1', ['Hello World']],
    ids: ['p1'],
  },
  {
    name: 'json path string',
    filter: 'meta.status = "draft"',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.status', 'draft']],
    postgres: [
      '(SELECT (CASE WHEN jsonb_typeof("~j"."v") = \'string\' THEN ("~j"."v" #>> \'{}\') END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      ['draft', ['status']],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'json path number',
    filter: 'meta.n = 5',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.n', 5]],
    postgres: [
      '(SELECT (CASE jsonb_typeof("~j"."v") WHEN \'number\' THEN CAST(("~j"."v" #>> \'{}\') AS DOUBLE PRECISION) WHEN \'boolean\' THEN CASE WHEN ("~j"."v" #>> \'{}\') = \'true\' THEN 1 ELSE 0 END END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      [5, ['n']],
    ],
    ids: ['p1'],
  },
  {
    name: 'json path text never equals a number',
    filter: 'meta.n = "5"',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.n', '5']],
    postgres: [
      '(SELECT (CASE WHEN jsonb_typeof("~j"."v") = \'string\' THEN ("~j"."v" #>> \'{}\') END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      ['5', ['n']],
    ],
    ids: ['p2'],
  },
  {
    name: 'json path order: texts after numbers',
    filter: 'meta.n > 4',
    sqlite: ['json_extract("posts"."meta", ?) > ?', ['$.n', 4]],
    postgres: [
      '(SELECT CASE WHEN jsonb_typeof("~j"."v") IN (\'number\', \'boolean\') THEN (CASE jsonb_typeof("~j"."v") WHEN \'number\' THEN CAST(("~j"."v" #>> \'{}\') AS DOUBLE PRECISION) WHEN \'boolean\' THEN CASE WHEN ("~j"."v" #>> \'{}\') = \'true\' THEN 1 ELSE 0 END END) > $1 WHEN jsonb_typeof("~j"."v") IN (\'string\', \'object\', \'array\') THEN TRUE END FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      [4, ['n']],
    ],
    ids: ['p1', 'p2', 'p4'],
  },
  {
    name: 'json path into an array',
    filter: 'meta.items.1.name = "second"',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.items[1].name', 'second']],
    postgres: [
      '(SELECT (CASE WHEN jsonb_typeof("~j"."v") = \'string\' THEN ("~j"."v" #>> \'{}\') END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      ['second', ['items', '1', 'name']],
    ],
    ids: ['p1'],
  },
  {
    name: 'json path bool',
    filter: 'meta.flag = true',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.flag', 1]],
    postgres: [
      '(SELECT (CASE jsonb_typeof("~j"."v") WHEN \'number\' THEN CAST(("~j"."v" #>> \'{}\') AS DOUBLE PRECISION) WHEN \'boolean\' THEN CASE WHEN ("~j"."v" #>> \'{}\') = \'true\' THEN 1 ELSE 0 END END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      [1, ['flag']],
    ],
    ids: ['p1'],
  },
  {
    name: 'json field null',
    filter: 'meta = null',
    sqlite: ['json_extract("posts"."meta", \'$\') IS NULL', []],
    postgres: ['COALESCE(jsonb_typeof("posts"."meta"), \'null\') = \'null\'', []],
    ids: ['p3', 'p6', 'p7'],
  },
  {
    name: 'json path contains',
    filter: 'meta.status ~ "raf"',
    sqlite: ['json_extract("posts"."meta", ?) LIKE ? ESCAPE \'\\\'', ['$.status', '%raf%']],
    postgres: [
      '(SELECT CASE WHEN jsonb_typeof("~j"."v") = \'boolean\' THEN CASE WHEN ("~j"."v" #>> \'{}\') = \'true\' THEN \'1\' ELSE \'0\' END ELSE ("~j"."v" #>> \'{}\') END COLLATE "C" FROM (SELECT ("posts"."meta" #> CAST($1 AS text[])) AS "v") AS "~j") ILIKE $2 ESCAPE \'\\\'',
      [['status'], '%raf%'],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'json array index',
    filter: 'meta.0 = 1',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$[0]', 1]],
    postgres: [
      '(SELECT (CASE jsonb_typeof("~j"."v") WHEN \'number\' THEN CAST(("~j"."v" #>> \'{}\') AS DOUBLE PRECISION) WHEN \'boolean\' THEN CASE WHEN ("~j"."v" #>> \'{}\') = \'true\' THEN 1 ELSE 0 END END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      [1, ['0']],
    ],
    ids: ['p5'],
  },
  {
    name: 'json path :lower',
    filter: 'meta.status:lower = "live"',
    sqlite: ['LOWER(json_extract("posts"."meta", ?)) = ?', ['$.status', 'live']],
    postgres: [
      'LOWER((SELECT CASE WHEN jsonb_typeof("~j"."v") = \'boolean\' THEN CASE WHEN ("~j"."v" #>> \'{}\') = \'true\' THEN \'1\' ELSE \'0\' END ELSE ("~j"."v" #>> \'{}\') END COLLATE "C" FROM (SELECT ("posts"."meta" #> CAST($1 AS text[])) AS "v") AS "~j")) = $2',
      [['status'], 'live'],
    ],
    ids: ['p2'],
  },
  {
    name: 'json missing key is NULL',
    filter: 'meta.missing = null',
    sqlite: ['json_extract("posts"."meta", ?) IS NULL', ['$.missing']],
    postgres: [
      'COALESCE(jsonb_typeof(("posts"."meta" #> CAST($1 AS text[]))), \'null\') = \'null\'',
      [['missing']],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'geoPoint lon',
    filter: 'loc.lon > 20',
    sqlite: ['json_extract("posts"."loc", \'$.lon\') > ?', [20]],
    postgres: ['CAST("posts"."loc" ->> \'lon\' AS DOUBLE PRECISION) > $1', [20]],
    ids: ['p1', 'p4'],
  },
  {
    name: 'geoPoint lat',
    filter: 'loc.lat = 0',
    sqlite: ['json_extract("posts"."loc", \'$.lat\') = ?', [0]],
    postgres: ['CAST("posts"."loc" ->> \'lat\' AS DOUBLE PRECISION) = $1', [0]],
    ids: ['p2', 'p5', 'p6', 'p7'],
  },
  {
    name: 'geoDistance',
    filter: 'geoDistance(loc.lon, loc.lat, 23.32, 42.69) < 10',
    sqlite: [
      '(6371 * acos(min(max(cos(radians(json_extract("posts"."loc", \'$.lat\'))) * cos(radians(?)) * cos(radians(?) - radians(json_extract("posts"."loc", \'$.lon\'))) + sin(radians(json_extract("posts"."loc", \'$.lat\'))) * sin(radians(?)), -1), 1))) < ?',
      [42.69, 23.32, 42.69, 10],
    ],
    postgres: [
      '(6371 * acos(LEAST(GREATEST(cos(radians(CAST("posts"."loc" ->> \'lat\' AS DOUBLE PRECISION))) * cos(radians($1)) * cos(radians($2) - radians(CAST("posts"."loc" ->> \'lon\' AS DOUBLE PRECISION))) + sin(radians(CAST("posts"."loc" ->> \'lat\' AS DOUBLE PRECISION))) * sin(radians($3)), -1), 1))) < $4',
      [42.69, 23.32, 42.69, 10],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: ':each any-of',
    filter: 'labels:each ?= "a"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~1" ON TRUE WHERE "each~1"."value" = ?)',
      ['a'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~1"("value") ON TRUE WHERE "each~1"."value" = $1)',
      ['a'],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: ':each match-all',
    filter: 'labels:each = "a"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~1" ON TRUE WHERE ("each~1"."value" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~2" ON TRUE WHERE NOT ("each~2"."value" = ?))))',
      ['a', 'a'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~1"("value") ON TRUE WHERE ("each~1"."value" = $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~2"("value") ON TRUE WHERE NOT ("each~2"."value" = $2))))',
      ['a', 'a'],
    ],
    ids: ['p4'],
  },
  {
    name: ':each match-all not equals',
    filter: 'labels:each != "a"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~1" ON TRUE WHERE ("each~1"."value" IS NOT ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~2" ON TRUE WHERE NOT ("each~2"."value" IS NOT ?))))',
      ['a', 'a'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~1"("value") ON TRUE WHERE ("each~1"."value" IS DISTINCT FROM $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~2"("value") ON TRUE WHERE NOT ("each~2"."value" IS DISTINCT FROM $2))))',
      ['a', 'a'],
    ],
    ids: ['p2', 'p3', 'p5', 'p6', 'p7'],
  },
  {
    name: ':length of select',
    filter: 'labels:length = 0',
    sqlite: [
      'COALESCE(json_array_length(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END), 0) = ?',
      [0],
    ],
    postgres: ['CAST(COALESCE(jsonb_array_length("posts"."labels"), 0) AS DOUBLE PRECISION) = $1', [0]],
    ids: ['p2', 'p6', 'p7'],
  },
  {
    name: 'multiple column as JSON text',
    filter: 'labels = \'["a","b"]\'',
    sqlite: ['"posts"."labels" = ?', ['["a","b"]']],
    postgres: [
      '(CASE WHEN "posts"."labels" IS NULL THEN NULL ELSE (SELECT \'[\' || COALESCE(string_agg(to_json("~e"."v")::text, \',\' ORDER BY "~e"."n"), \'\') || \']\' FROM jsonb_array_elements_text("posts"."labels") WITH ORDINALITY AS "~e"("v", "n")) END COLLATE "C") = $1',
      ['["a","b"]'],
    ],
    ids: ['p1'],
  },
  {
    name: 'multiple column contains',
    filter: 'labels ~ "c"',
    sqlite: ['"posts"."labels" LIKE ? ESCAPE \'\\\'', ['%c%']],
    postgres: [
      '(CASE WHEN "posts"."labels" IS NULL THEN NULL ELSE (SELECT \'[\' || COALESCE(string_agg(to_json("~e"."v")::text, \',\' ORDER BY "~e"."n"), \'\') || \']\' FROM jsonb_array_elements_text("posts"."labels") WITH ORDINALITY AS "~e"("v", "n")) END COLLATE "C") ILIKE $1 ESCAPE \'\\\'',
      ['%c%'],
    ],
    ids: ['p3', 'p5'],
  },
  {
    name: ':each contains any-of',
    filter: 'labels:each ?~ "B"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~1" ON TRUE WHERE "each~1"."value" LIKE ? ESCAPE \'\\\')',
      ['%B%'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~1"("value") ON TRUE WHERE "each~1"."value" ILIKE $1 ESCAPE \'\\\')',
      ['%B%'],
    ],
    ids: ['p1', 'p5'],
  },
  {
    name: 'SQL in a string is a parameter',
    filter: 'title = "\'; DROP TABLE posts; --"',
    sqlite: ['"posts"."title" = ?', ["'; DROP TABLE posts; --"]],
    postgres: ['"posts"."title" = $1', ["'; DROP TABLE posts; --"]],
    ids: [],
  },
  {
    name: 'SQL in a request value',
    filter: 'title = @request.query.q || author = @request.headers.x_token',
    as: 'hostile',
    sqlite: ['("posts"."title" = ? OR "posts"."author" = ?)', ["' OR '1'='1", "u1' OR 1=1 --"]],
    postgres: ['("posts"."title" = $1 OR "posts"."author" = $2)', ["' OR '1'='1", "u1' OR 1=1 --"]],
    ids: [],
  },
  {
    name: 'select single equals',
    filter: 'status = "live"',
    client: true,
    sqlite: ['"posts"."status" = ?', ['live']],
    postgres: ['"posts"."status" = $1', ['live']],
    ids: ['p1', 'p4'],
  },
  {
    name: 'select single not equals (NULL-safe)',
    filter: 'status != "live"',
    client: true,
    sqlite: ['"posts"."status" IS NOT ?', ['live']],
    postgres: ['"posts"."status" IS DISTINCT FROM $1', ['live']],
    ids: ['p2', 'p3', 'p5', 'p6', 'p7'],
  },
  {
    name: 'email contains, ASCII case-insensitive',
    filter: 'contact ~ "EXAMPLE.COM"',
    client: true,
    sqlite: ['"posts"."contact" LIKE ? ESCAPE \'\\\'', ['%EXAMPLE.COM%']],
    postgres: ['"posts"."contact" ILIKE $1 ESCAPE \'\\\'', ['%EXAMPLE.COM%']],
    ids: ['p1', 'p3', 'p4'],
  },
  {
    name: 'email empty',
    filter: 'contact = ""',
    client: true,
    sqlite: ['("posts"."contact" = \'\' OR "posts"."contact" IS NULL)', []],
    postgres: ['("posts"."contact" = \'\' OR "posts"."contact" IS NULL)', []],
    ids: ['p2', 'p5', 'p6', 'p7'],
  },
  {
    name: 'email :lower',
    filter: 'contact:lower = "cid@example.com"',
    client: true,
    sqlite: ['LOWER("posts"."contact") = ?', ['cid@example.com']],
    postgres: ['LOWER("posts"."contact") = $1', ['cid@example.com']],
    ids: ['p3'],
  },
  {
    name: 'url pattern: starts with',
    filter: 'site ~ "https://%"',
    client: true,
    sqlite: ['"posts"."site" LIKE ? ESCAPE \'\\\'', ['https://%']],
    postgres: ['"posts"."site" ILIKE $1 ESCAPE \'\\\'', ['https://%']],
    ids: ['p1', 'p4'],
  },
  {
    name: 'url escaped percent with a pattern',
    filter: 'site ~ "%/\\%"',
    client: true,
    sqlite: ['"posts"."site" LIKE ? ESCAPE \'\\\'', ['%/\\%']],
    postgres: ['"posts"."site" ILIKE $1 ESCAPE \'\\\'', ['%/\\%']],
    ids: ['p4'],
  },
  {
    name: 'LIKE escapes: % in a literal',
    filter: 'body ~ "\\%"',
    client: true,
    sqlite: ['"posts"."body" LIKE ? ESCAPE \'\\\'', ['%\\%%']],
    postgres: ['"posts"."body" ILIKE $1 ESCAPE \'\\\'', ['%\\%%']],
    ids: ['p3'],
  },
  {
    name: 'LIKE escapes: _ in a literal',
    filter: 'body ~ "f_s"',
    client: true,
    sqlite: ['"posts"."body" LIKE ? ESCAPE \'\\\'', ['%f\\_s%']],
    postgres: ['"posts"."body" ILIKE $1 ESCAPE \'\\\'', ['%f\\_s%']],
    ids: ['p3'],
  },
  {
    name: 'LIKE escapes: backslash in a literal',
    filter: 'body ~ "e\\o"',
    client: true,
    sqlite: ['"posts"."body" LIKE ? ESCAPE \'\\\'', ['%e\\\\o%']],
    postgres: ['"posts"."body" ILIKE $1 ESCAPE \'\\\'', ['%e\\\\o%']],
    ids: ['p5'],
  },
  {
    name: 'LIKE: unescaped % makes a pattern',
    filter: 'body ~ "50%"',
    client: true,
    sqlite: ['"posts"."body" LIKE ? ESCAPE \'\\\'', ['50%']],
    postgres: ['"posts"."body" ILIKE $1 ESCAPE \'\\\'', ['50%']],
    ids: ['p3'],
  },
  {
    name: 'not contains keeps empty values',
    filter: 'body !~ "o"',
    client: true,
    sqlite: ['"posts"."body" NOT LIKE ? ESCAPE \'\\\'', ['%o%']],
    postgres: ['"posts"."body" NOT ILIKE $1 ESCAPE \'\\\'', ['%o%']],
    ids: ['p2', 'p6', 'p7'],
  },
  {
    name: 'editor equals',
    filter: 'body = "go"',
    client: true,
    sqlite: ['"posts"."body" = ?', ['go']],
    postgres: ['"posts"."body" = $1', ['go']],
    ids: ['p4'],
  },
  {
    name: 'date greater than @now',
    filter: 'due > @now',
    client: true,
    sqlite: ['"posts"."due" > ?', ['2024-06-15 08:00:00.000Z']],
    postgres: ['"posts"."due" > $1', ['2024-06-15 08:00:00.000Z']],
    ids: ['p1'],
  },
  {
    name: 'date equals @now',
    filter: 'due = @now',
    client: true,
    sqlite: ['"posts"."due" = ?', ['2024-06-15 08:00:00.000Z']],
    postgres: ['"posts"."due" = $1', ['2024-06-15 08:00:00.000Z']],
    ids: ['p5'],
  },
  {
    name: 'date at most @todayEnd',
    filter: 'due <= @todayEnd',
    client: true,
    sqlite: ['"posts"."due" <= ?', ['2024-06-15 23:59:59.999Z']],
    postgres: ['"posts"."due" <= $1', ['2024-06-15 23:59:59.999Z']],
    ids: ['p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'date from @monthStart to @monthEnd',
    filter: 'due >= @monthStart && due <= @monthEnd',
    client: true,
    sqlite: [
      '("posts"."due" >= ? AND "posts"."due" <= ?)',
      ['2024-06-01 00:00:00.000Z', '2024-06-30 23:59:59.999Z'],
    ],
    postgres: [
      '("posts"."due" >= $1 AND "posts"."due" <= $2)',
      ['2024-06-01 00:00:00.000Z', '2024-06-30 23:59:59.999Z'],
    ],
    ids: ['p1', 'p5'],
  },
  {
    name: 'date before @yearStart',
    filter: 'due < @yearStart && due != ""',
    client: true,
    sqlite: [
      '("posts"."due" < ? AND ("posts"."due" <> \'\' AND "posts"."due" IS NOT NULL))',
      ['2024-01-01 00:00:00.000Z'],
    ],
    postgres: [
      '("posts"."due" < $1 AND ("posts"."due" <> \'\' AND "posts"."due" IS NOT NULL))',
      ['2024-01-01 00:00:00.000Z'],
    ],
    ids: ['p4'],
  },
  {
    name: 'date after @tomorrow',
    filter: 'due > @tomorrow',
    client: true,
    sqlite: ['"posts"."due" > ?', ['2024-06-16 08:00:00.000Z']],
    postgres: ['"posts"."due" > $1', ['2024-06-16 08:00:00.000Z']],
    ids: ['p1'],
  },
  {
    name: '@yearEnd and @todayStart',
    filter: 'created <= @yearEnd && created < @todayStart',
    client: true,
    sqlite: [
      '("posts"."created" <= ? AND "posts"."created" < ?)',
      ['2024-12-31 23:59:59.999Z', '2024-06-15 00:00:00.000Z'],
    ],
    postgres: [
      '("posts"."created" <= $1 AND "posts"."created" < $2)',
      ['2024-12-31 23:59:59.999Z', '2024-06-15 00:00:00.000Z'],
    ],
    ids: ['p1', 'p2', 'p4', 'p6', 'p7'],
  },
  {
    name: 'number macros: @year',
    filter: 'views < @year && views > @month',
    client: true,
    sqlite: ['("posts"."views" < ? AND "posts"."views" > ?)', [2024, 6]],
    postgres: ['("posts"."views" < $1 AND "posts"."views" > $2)', [2024, 6]],
    ids: ['p1', 'p4', 'p5'],
  },
  {
    name: 'number macros: @day @hour',
    filter: '@day = 15 && @hour = 8 && @minute = 0 && @second = 0 && @weekday = 6',
    client: true,
    sqlite: ['(TRUE AND TRUE AND TRUE AND TRUE AND TRUE)', []],
    postgres: ['(TRUE AND TRUE AND TRUE AND TRUE AND TRUE)', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'autodate empty',
    filter: 'updated = ""',
    client: true,
    sqlite: ['("posts"."updated" = \'\' OR "posts"."updated" IS NULL)', []],
    postgres: ['("posts"."updated" = \'\' OR "posts"."updated" IS NULL)', []],
    ids: ['p3', 'p5', 'p6', 'p7'],
  },
  {
    name: 'file single empty',
    filter: 'cover = ""',
    client: true,
    sqlite: ['("posts"."cover" = \'\' OR "posts"."cover" IS NULL)', []],
    postgres: ['("posts"."cover" = \'\' OR "posts"."cover" IS NULL)', []],
    ids: ['p2', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'file single set',
    filter: 'cover != ""',
    client: true,
    sqlite: ['("posts"."cover" <> \'\' AND "posts"."cover" IS NOT NULL)', []],
    postgres: ['("posts"."cover" <> \'\' AND "posts"."cover" IS NOT NULL)', []],
    ids: ['p1', 'p3'],
  },
  {
    name: 'file multiple :length',
    filter: 'files:length > 1',
    client: true,
    sqlite: [
      'COALESCE(json_array_length(CASE WHEN json_valid("posts"."files") THEN "posts"."files" WHEN "posts"."files" IS NULL OR "posts"."files" = \'\' THEN \'[]\' ELSE json_array("posts"."files") END), 0) > ?',
      [1],
    ],
    postgres: ['CAST(COALESCE(jsonb_array_length("posts"."files"), 0) AS DOUBLE PRECISION) > $1', [1]],
    ids: ['p1', 'p4'],
  },
  {
    name: 'multiple column any-of compares its JSON text',
    filter: 'files ?= "a.png"',
    client: true,
    sqlite: ['"posts"."files" = ?', ['a.png']],
    postgres: [
      '(CASE WHEN "posts"."files" IS NULL THEN NULL ELSE (SELECT \'[\' || COALESCE(string_agg(to_json("~e"."v")::text, \',\' ORDER BY "~e"."n"), \'\') || \']\' FROM jsonb_array_elements_text("posts"."files") WITH ORDINALITY AS "~e"("v", "n")) END COLLATE "C") = $1',
      ['a.png'],
    ],
    ids: [],
  },
  {
    name: 'file multiple :each match-all contains',
    filter: 'files:each ~ ".pdf"',
    client: true,
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."files") THEN "posts"."files" WHEN "posts"."files" IS NULL OR "posts"."files" = \'\' THEN \'[]\' ELSE json_array("posts"."files") END) AS "each~1" ON TRUE WHERE ("each~1"."value" LIKE ? ESCAPE \'\\\' AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."files") THEN "posts"."files" WHEN "posts"."files" IS NULL OR "posts"."files" = \'\' THEN \'[]\' ELSE json_array("posts"."files") END) AS "each~2" ON TRUE WHERE NOT ("each~2"."value" LIKE ? ESCAPE \'\\\'))))',
      ['%.pdf%', '%.pdf%'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."files") AS "each~1"("value") ON TRUE WHERE ("each~1"."value" ILIKE $1 ESCAPE \'\\\' AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."files") AS "each~2"("value") ON TRUE WHERE NOT ("each~2"."value" ILIKE $2 ESCAPE \'\\\'))))',
      ['%.pdf%', '%.pdf%'],
    ],
    ids: ['p4'],
  },
  {
    name: 'file multiple :each any-of not contains',
    filter: 'files:each ?!~ ".pdf"',
    client: true,
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."files") THEN "posts"."files" WHEN "posts"."files" IS NULL OR "posts"."files" = \'\' THEN \'[]\' ELSE json_array("posts"."files") END) AS "each~1" ON TRUE WHERE "each~1"."value" NOT LIKE ? ESCAPE \'\\\')',
      ['%.pdf%'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."files") AS "each~1"("value") ON TRUE WHERE "each~1"."value" NOT ILIKE $1 ESCAPE \'\\\')',
      ['%.pdf%'],
    ],
    ids: ['p1', 'p3'],
  },
  {
    name: 'number equals negative float',
    filter: 'views = -5.5',
    client: true,
    sqlite: ['"posts"."views" = ?', [-5.5]],
    postgres: ['"posts"."views" = $1', [-5.5]],
    ids: ['p3'],
  },
  {
    name: 'number not equals',
    filter: 'views != 10',
    client: true,
    sqlite: ['"posts"."views" IS NOT ?', [10]],
    postgres: ['"posts"."views" IS DISTINCT FROM $1', [10]],
    ids: ['p2', 'p3', 'p4', 'p6', 'p7'],
  },
  {
    name: 'number greater or equal',
    filter: 'views >= 10',
    client: true,
    sqlite: ['"posts"."views" >= ?', [10]],
    postgres: ['"posts"."views" >= $1', [10]],
    ids: ['p1', 'p4', 'p5'],
  },
  {
    name: 'number less than',
    filter: 'views < 0',
    client: true,
    sqlite: ['"posts"."views" < ?', [0]],
    postgres: ['"posts"."views" < $1', [0]],
    ids: ['p3'],
  },
  {
    name: 'literal on the left',
    filter: '5 < views && "Hello World" = title',
    client: true,
    sqlite: ['(? < "posts"."views" AND ? = "posts"."title")', [5, 'Hello World']],
    postgres: ['($1 < "posts"."views" AND $2 = "posts"."title")', [5, 'Hello World']],
    ids: ['p1'],
  },
  {
    name: 'any-of on a single value: ?= ',
    filter: 'title ?= "Hello World"',
    client: true,
    sqlite: ['"posts"."title" = ?', ['Hello World']],
    postgres: ['"posts"."title" = $1', ['Hello World']],
    ids: ['p1'],
  },
  {
    name: 'any-of on a single value: ?!=',
    filter: 'title ?!= ""',
    client: true,
    sqlite: ['("posts"."title" <> \'\' AND "posts"."title" IS NOT NULL)', []],
    postgres: ['("posts"."title" <> \'\' AND "posts"."title" IS NOT NULL)', []],
    ids: ['p1', 'p2', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'any-of on a single value: ?>',
    filter: 'views ?> 5',
    client: true,
    sqlite: ['"posts"."views" > ?', [5]],
    postgres: ['"posts"."views" > $1', [5]],
    ids: ['p1', 'p4', 'p5'],
  },
  {
    name: 'any-of on a single value: ?>=',
    filter: 'views ?>= 10',
    client: true,
    sqlite: ['"posts"."views" >= ?', [10]],
    postgres: ['"posts"."views" >= $1', [10]],
    ids: ['p1', 'p4', 'p5'],
  },
  {
    name: 'any-of on a single value: ?<',
    filter: 'views ?< 0',
    client: true,
    sqlite: ['"posts"."views" < ?', [0]],
    postgres: ['"posts"."views" < $1', [0]],
    ids: ['p3'],
  },
  {
    name: 'any-of on a single value: ?<=',
    filter: 'views ?<= 0',
    client: true,
    sqlite: ['"posts"."views" <= ?', [0]],
    postgres: ['"posts"."views" <= $1', [0]],
    ids: ['p2', 'p3', 'p6', 'p7'],
  },
  {
    name: 'any-of on a single value: ?~',
    filter: 'title ?~ "O"',
    client: true,
    sqlite: ['"posts"."title" LIKE ? ESCAPE \'\\\'', ['%O%']],
    postgres: ['"posts"."title" ILIKE $1 ESCAPE \'\\\'', ['%O%']],
    ids: ['p1', 'p2', 'p4', 'p5'],
  },
  {
    name: 'any-of on a single value: ?!~',
    filter: 'title ?!~ "o"',
    client: true,
    sqlite: ['"posts"."title" NOT LIKE ? ESCAPE \'\\\'', ['%o%']],
    postgres: ['"posts"."title" NOT ILIKE $1 ESCAPE \'\\\'', ['%o%']],
    ids: ['p3', 'p6', 'p7'],
  },
  {
    name: 'multi any-of greater',
    filter: 'tags.name ?> "js"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" > ?)',
      ['js'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" > $1)',
      ['js'],
    ],
    ids: ['p4', 'p5'],
  },
  {
    name: 'multi any-of less or equal',
    filter: 'tags.name ?<= "go"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" <= ?)',
      ['go'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE "tags~2"."name" <= $1)',
      ['go'],
    ],
    ids: ['p1', 'p3'],
  },
  {
    name: 'multi match-all greater or equal',
    filter: 'tags.name >= "js"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" >= ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" >= ?))))',
      ['js', 'js'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" >= $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" >= $2))))',
      ['js', 'js'],
    ],
    ids: ['p4', 'p5'],
  },
  {
    name: 'multi match-all less',
    filter: 'tags.name < "rust"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" < ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" < ?))))',
      ['rust', 'rust'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~1"("value") ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE ("tags~2"."name" < $1 AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT ("tags~4"."name" < $2))))',
      ['rust', 'rust'],
    ],
    ids: ['p1', 'p3'],
  },
  {
    name: 'multi any-of not equals',
    filter: 'labels:each ?!= "a"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."labels") THEN "posts"."labels" WHEN "posts"."labels" IS NULL OR "posts"."labels" = \'\' THEN \'[]\' ELSE json_array("posts"."labels") END) AS "each~1" ON TRUE WHERE "each~1"."value" IS NOT ?)',
      ['a'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."labels") AS "each~1"("value") ON TRUE WHERE "each~1"."value" IS DISTINCT FROM $1)',
      ['a'],
    ],
    ids: ['p1', 'p2', 'p3', 'p5', 'p6', 'p7'],
  },
  {
    name: 'null equals an empty relation',
    filter: 'author = null',
    sqlite: ['("posts"."author" = \'\' OR "posts"."author" IS NULL)', []],
    postgres: ['("posts"."author" = \'\' OR "posts"."author" IS NULL)', []],
    ids: ['p3', 'p7'],
  },
  {
    name: 'null not equals',
    filter: 'author != null && parent != null',
    sqlite: [
      '(("posts"."author" <> \'\' AND "posts"."author" IS NOT NULL) AND ("posts"."parent" <> \'\' AND "posts"."parent" IS NOT NULL))',
      [],
    ],
    postgres: [
      '(("posts"."author" <> \'\' AND "posts"."author" IS NOT NULL) AND ("posts"."parent" <> \'\' AND "posts"."parent" IS NOT NULL))',
      [],
    ],
    ids: ['p2', 'p4', 'p5', 'p6'],
  },
  {
    name: 'null literal on the left',
    filter: 'null = parent',
    sqlite: ['("posts"."parent" = \'\' OR "posts"."parent" IS NULL)', []],
    postgres: ['("posts"."parent" = \'\' OR "posts"."parent" IS NULL)', []],
    ids: ['p1'],
  },
  {
    name: 'JSON path any-of is plain',
    filter: 'meta.status ?= "draft"',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.status', 'draft']],
    postgres: [
      '(SELECT (CASE WHEN jsonb_typeof("~j"."v") = \'string\' THEN ("~j"."v" #>> \'{}\') END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      ['draft', ['status']],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'JSON path into an array item',
    filter: 'meta.items.1.name = "second"',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.items[1].name', 'second']],
    postgres: [
      '(SELECT (CASE WHEN jsonb_typeof("~j"."v") = \'string\' THEN ("~j"."v" #>> \'{}\') END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      ['second', ['items', '1', 'name']],
    ],
    ids: ['p1'],
  },
  {
    name: 'JSON number vs numeric text',
    filter: 'meta.n >= 5',
    sqlite: ['json_extract("posts"."meta", ?) >= ?', ['$.n', 5]],
    postgres: [
      '(SELECT CASE WHEN jsonb_typeof("~j"."v") IN (\'number\', \'boolean\') THEN (CASE jsonb_typeof("~j"."v") WHEN \'number\' THEN CAST(("~j"."v" #>> \'{}\') AS DOUBLE PRECISION) WHEN \'boolean\' THEN CASE WHEN ("~j"."v" #>> \'{}\') = \'true\' THEN 1 ELSE 0 END END) >= $1 WHEN jsonb_typeof("~j"."v") IN (\'string\', \'object\', \'array\') THEN TRUE END FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      [5, ['n']],
    ],
    ids: ['p1', 'p2', 'p4'],
  },
  {
    name: 'JSON path missing vs empty',
    filter: 'meta.nope = ""',
    sqlite: ['json_extract("posts"."meta", ?) IS ?', ['$.nope', '']],
    postgres: [
      '(SELECT (CASE WHEN jsonb_typeof("~j"."v") = \'string\' THEN ("~j"."v" #>> \'{}\') END) IS NOT DISTINCT FROM $1 FROM (SELECT ("posts"."meta" #> CAST($2 AS text[])) AS "v") AS "~j")',
      ['', ['nope']],
    ],
    ids: [],
  },
  {
    name: 'geoDistance under 1 km',
    filter: 'geoDistance(loc.lon, loc.lat, 2.35, 48.86) < 1',
    sqlite: [
      '(6371 * acos(min(max(cos(radians(json_extract("posts"."loc", \'$.lat\'))) * cos(radians(?)) * cos(radians(?) - radians(json_extract("posts"."loc", \'$.lon\'))) + sin(radians(json_extract("posts"."loc", \'$.lat\'))) * sin(radians(?)), -1), 1))) < ?',
      [48.86, 2.35, 48.86, 1],
    ],
    postgres: [
      '(6371 * acos(LEAST(GREATEST(cos(radians(CAST("posts"."loc" ->> \'lat\' AS DOUBLE PRECISION))) * cos(radians($1)) * cos(radians($2) - radians(CAST("posts"."loc" ->> \'lon\' AS DOUBLE PRECISION))) + sin(radians(CAST("posts"."loc" ->> \'lat\' AS DOUBLE PRECISION))) * sin(radians($3)), -1), 1))) < $4',
      [48.86, 2.35, 48.86, 1],
    ],
    ids: ['p3'],
  },
  {
    name: 'geoDistance through a relation',
    filter: 'geoDistance(parent.loc.lon, parent.loc.lat, 23.32, 42.69) < 5',
    sqlite: [
      '(6371 * acos(min(max(cos(radians((SELECT json_extract("posts~1"."loc", \'$.lat\') FROM "posts" AS "posts~1" WHERE "posts~1"."id" = "posts"."parent"))) * cos(radians(?)) * cos(radians(?) - radians((SELECT json_extract("posts~1"."loc", \'$.lon\') FROM "posts" AS "posts~1" WHERE "posts~1"."id" = "posts"."parent"))) + sin(radians((SELECT json_extract("posts~1"."loc", \'$.lat\') FROM "posts" AS "posts~1" WHERE "posts~1"."id" = "posts"."parent"))) * sin(radians(?)), -1), 1))) < ?',
      [42.69, 23.32, 42.69, 5],
    ],
    postgres: [
      '(6371 * acos(LEAST(GREATEST(cos(radians((SELECT CAST("posts~1"."loc" ->> \'lat\' AS DOUBLE PRECISION) FROM "posts" AS "posts~1" WHERE "posts~1"."id" = "posts"."parent"))) * cos(radians($1)) * cos(radians($2) - radians((SELECT CAST("posts~1"."loc" ->> \'lon\' AS DOUBLE PRECISION) FROM "posts" AS "posts~1" WHERE "posts~1"."id" = "posts"."parent"))) + sin(radians((SELECT CAST("posts~1"."loc" ->> \'lat\' AS DOUBLE PRECISION) FROM "posts" AS "posts~1" WHERE "posts~1"."id" = "posts"."parent"))) * sin(radians($3)), -1), 1))) < $4',
      [42.69, 23.32, 42.69, 5],
    ],
    ids: ['p2', 'p5'],
  },
  {
    name: 'back-relation any-of of a field',
    filter: 'members_via_post.role ?= "owner"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON "members~1"."post" = "posts"."id" WHERE "members~1"."role" = ?)',
      ['owner'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON "members~1"."post" = "posts"."id" WHERE "members~1"."role" = $1)',
      ['owner'],
    ],
    ids: ['p1'],
  },
  {
    name: 'back-relation through a relation',
    filter: 'members_via_post.user.name ?= "Bob"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON "members~1"."post" = "posts"."id" LEFT JOIN "users" AS "users~2" ON "users~2"."id" = "members~1"."user" WHERE "users~2"."name" = ?)',
      ['Bob'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON "members~1"."post" = "posts"."id" LEFT JOIN "users" AS "users~2" ON "users~2"."id" = "members~1"."user" WHERE "users~2"."name" = $1)',
      ['Bob'],
    ],
    ids: ['p1', 'p2'],
  },
  {
    name: 'back-relation id any-of',
    filter: 'comments_via_post.id ?= "k3"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE "comments~1"."id" = ?)',
      ['k3'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "comments" AS "comments~1" ON "comments~1"."post" = "posts"."id" WHERE "comments~1"."id" = $1)',
      ['k3'],
    ],
    ids: ['p2'],
  },
  {
    name: '@collection alias with a relation field',
    filter: '@collection.members:m.post ?= id && @collection.members:m.role ?= "viewer"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE (COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\') AND "members~1"."role" = ?))',
      ['viewer'],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "members" AS "members~1" ON TRUE WHERE (COALESCE("members~1"."post", \'\') = COALESCE("posts"."id", \'\') AND "members~1"."role" = $1))',
      ['viewer'],
    ],
    ids: ['p1', 'p2'],
  },
  {
    name: '@collection compared with a field',
    filter: '@collection.tags.name ?= title',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON TRUE WHERE COALESCE("tags~1"."name", \'\') = COALESCE("posts"."title", \'\'))',
      [],
    ],
    postgres: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN "tags" AS "tags~1" ON TRUE WHERE COALESCE("tags~1"."name", \'\') = COALESCE("posts"."title", \'\'))',
      [],
    ],
    ids: [],
  },
  {
    name: '@request.query',
    filter: '@request.query.page = "2" && @request.query.page != 2',
    sqlite: ['(TRUE AND TRUE)', []],
    postgres: ['(TRUE AND TRUE)', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.headers contains',
    filter: '@request.headers.content_type ~ "json"',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.context realtime',
    filter: '@request.context = "realtime"',
    as: 'realtime',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.auth.id in a multi relation',
    filter: 'tags ?= @request.auth.id || author = @request.auth.id',
    as: 'u2',
    sqlite: ['("posts"."tags" = ? OR "posts"."author" = ?)', ['u2', 'u2']],
    postgres: [
      '((CASE WHEN "posts"."tags" IS NULL THEN NULL ELSE (SELECT \'[\' || COALESCE(string_agg(to_json("~e"."v")::text, \',\' ORDER BY "~e"."n"), \'\') || \']\' FROM jsonb_array_elements_text("posts"."tags") WITH ORDINALITY AS "~e"("v", "n")) END COLLATE "C") = $1 OR "posts"."author" = $2)',
      ['u2', 'u2'],
    ],
    ids: ['p2', 'p6'],
  },
  {
    name: '@request.body select :changed',
    filter: '@request.body.status:changed = true',
    as: 'body',
    sqlite: ['(? IS NOT "posts"."status") = ?', ['live', 1]],
    postgres: ['($1 IS DISTINCT FROM "posts"."status") = $2', ['live', true]],
    ids: ['p2', 'p3', 'p5', 'p6', 'p7'],
  },
  {
    name: '@request.body :isset of a body-only key',
    filter: '@request.body.extra:isset = false && @request.body.title:isset = true',
    as: 'body',
    sqlite: ['(TRUE AND TRUE)', []],
    postgres: ['(TRUE AND TRUE)', []],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'strftime year of an autodate',
    filter: 'strftime(\'%Y\', created) = "2024"',
    sqlite: ['strftime(?, "posts"."created") = ?', ['%Y', '2024']],
    postgres: [
      golden('strftime-year-of-an-autodate'),
      [
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2024',
      ],
    ],
    ids: ['p1', 'p2', 'p3', 'p5'],
  },
  {
    name: 'strftime month of a date',
    filter: 'strftime(\'%Y-%m\', due) = "2024-06"',
    sqlite: ['strftime(?, "posts"."due") = ?', ['%Y-%m', '2024-06']],
    postgres: [
      golden('strftime-month-of-a-date'),
      [
        '-',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2024-06',
      ],
    ],
    ids: ['p1', 'p5'],
  },
  {
    name: 'strftime of an empty date is empty',
    filter: 'strftime(\'%Y\', due) = ""',
    sqlite: ['(strftime(?, "posts"."due") = \'\' OR strftime(?, "posts"."due") IS NULL)', ['%Y', '%Y']],
    postgres: [
      golden('strftime-of-an-empty-date-is-empty'),
      [
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
      ],
    ],
    ids: ['p2', 'p6', 'p7'],
  },
  {
    name: 'strftime weekday and day of year',
    filter: 'strftime(\'%w\', created) = "6" || strftime(\'%j\', created) = "153"',
    sqlite: [
      '(strftime(?, "posts"."created") = ? OR strftime(?, "posts"."created") = ?)',
      ['%w', '6', '%j', '153'],
    ],
    postgres: [
      golden('strftime-weekday-and-day-of-year'),
      [
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '6',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '153',
      ],
    ],
    ids: ['p1', 'p3', 'p5'],
  },
  {
    name: 'strftime with modifiers',
    filter: "strftime('%Y-%m-%d', due, '+1 months', 'start of month') = \"2024-03-01\"",
    sqlite: [
      'strftime(?, "posts"."due", ?, ?) = ?',
      ['%Y-%m-%d', '+1 months', 'start of month', '2024-03-01'],
    ],
    postgres: [
      golden('strftime-with-modifiers'),
      [
        '-',
        '-',
        '0',
        '1',
        '1',
        '1',
        '1',
        '1',
        '1',
        '1',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2024-03-01',
      ],
    ],
    ids: ['p3'],
  },
  {
    name: 'strftime of @now',
    filter: 'strftime(\'%Y-%m-%d %H\', @now) = "2024-06-15 08"',
    sqlite: ['strftime(?, ?) = ?', ['%Y-%m-%d %H', '2024-06-15 08:00:00.000Z', '2024-06-15 08']],
    postgres: [
      golden('strftime-of-now'),
      [
        '-',
        '-',
        ' ',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2024-06-15 08:00:00.000Z',
        '2024-06-15 08',
      ],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'strftime without a time value is now',
    filter: 'strftime(\'%H:%M\') = "08:00"',
    sqlite: ['strftime(?, ?) = ?', ['%H:%M', '2024-06-15 08:00:00.000Z', '08:00']],
    postgres: [
      golden('strftime-without-a-time-value-is-now'),
      [
        ':',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2024-06-15 08:00:00.000Z',
        '08:00',
      ],
    ],
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    name: 'strftime match-all over a relation',
    filter: 'strftime(\'%Y\', tags.created) = "2024"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE (strftime(?, "tags~2"."created") = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" WHERE NOT (strftime(?, "tags~4"."created") = ?))))',
      ['%Y', '2024', '%Y', '2024'],
    ],
    postgres: [
      golden('strftime-match-all-over-a-relation'),
      [
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2024',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2024',
      ],
    ],
    ids: ['p3', 'p5'],
  },
  {
    name: 'strftime any-of over a relation',
    filter: 'strftime(\'%Y\', tags.created) ?= "2023"',
    sqlite: [
      'EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~1" ON TRUE LEFT JOIN "tags" AS "tags~2" ON "tags~2"."id" = "each~1"."value" WHERE strftime(?, "tags~2"."created") = ?)',
      ['%Y', '2023'],
    ],
    postgres: [
      golden('strftime-any-of-over-a-relation'),
      [
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '2023',
      ],
    ],
    ids: ['p1', 'p4'],
  },
  {
    name: 'strftime contains',
    filter: 'strftime(\'%Y-%m-%d %H:%M:%S.\', created) ~ "2024-06"',
    sqlite: ['strftime(?, "posts"."created") LIKE ? ESCAPE \'\\\'', ['%Y-%m-%d %H:%M:%S.', '%2024-06%']],
    postgres: [
      golden('strftime-contains'),
      [
        '-',
        '-',
        ' ',
        ':',
        ':',
        '.',
        212585198400000,
        '^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?)?$',
        '^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?[ \\t\\n\\v\\f\\r]*(?:([+-])([0-9]{2}):([0-9]{2})[ \\t\\n\\v\\f\\r]*|[Zz][ \\t\\n\\v\\f\\r]*)?$',
        '^[ \\t\\n\\v\\f\\r]*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?[ \\t\\n\\v\\f\\r]*$',
        '%2024-06%',
      ],
    ],
    ids: ['p1', 'p2', 'p3', 'p5'],
  },
]

function where(c: Case, fx: Fixture, name: DialectName, request: RequestContext) {
  const collection = fx.collection(c.collection ?? 'posts')
  const expr = compileRecordFilter(c.filter, { collection, privileged: !c.client }, envFor(fx, name, request))
  if (expr === undefined) throw new Error('empty filter')
  return expr
}

test('the golden table has at least 150 cases, each named once, each run on both databases', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(150)
  expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length)
})

test('the golden table uses every operator, modifier and datetime macro', () => {
  const text = CASES.map((c) => c.filter).join('\n')
  const ops = new Set(text.match(/\?!~|\?!=|\?>=|\?<=|\?[=~<>]|!~|!=|>=|<=|[=~<>]/g))
  expect([...COMPARE_OPS].filter((op) => !ops.has(op))).toEqual([])
  for (const m of MODIFIERS) expect(text).toContain(`:${m}`)
  for (const m of MACROS) expect(text).toContain(m)
  for (const f of ['_via_', '@collection.', ':m.', '@request.', 'geoDistance(', 'strftime(', 'meta.']) {
    expect(text).toContain(f)
  }
})

describe('record filters: golden SQL', () => {
  // The schema is the same on both databases: SQL for either is compiled from the SQLite fixture.
  let fx: Fixture
  beforeAll(async () => {
    fx = await openFixture('sqlite')
  })
  afterAll(async () => fx?.close())

  for (const name of ['sqlite', 'postgres'] as const) {
    test.each(CASES)(`${name}: $name: $filter`, async (c) => {
      const request = await requestAs(c.as ?? 'guest', fx)
      const table = c.collection ?? 'posts'
      const compiled = compilerOnly(name)
        .selectFrom(table)
        .select('id')
        .where(where(c, fx, name, request))
        .compile()
      const [text, parameters] = c[name]
      expect(compiled.sql).toBe(`select "id" from "${table}" where ${text}`)
      expect(compiled.parameters).toEqual(parameters)
    })
  }
})

for (const name of ['sqlite', 'postgres'] as const) {
  const skip = name === 'postgres' && !PG_URL
  describe.skipIf(skip)(
    `record filters on ${name}${skip ? ' (SKIPPED: GALLEY_TEST_PG_URL is not set)' : ''}`,
    () => {
      let fx: Fixture
      beforeAll(async () => {
        fx = await openFixture(name)
      })
      afterAll(async () => fx?.close())

      test.each(CASES)('$name: $filter', async (c) => {
        const request = await requestAs(c.as ?? 'guest', fx)
        const query = fx.database.db
          .selectFrom(c.collection ?? 'posts')
          .select('id')
          .where(where(c, fx, name, request))
          .orderBy('id')
        // the SQL run on the real schema is the golden one
        expect(query.compile().parameters).toEqual(c[name][1])
        expect((await query.execute()).map((r) => r.id)).toEqual(c.ids)
      })
    },
  )
}
