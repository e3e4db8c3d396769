/** Limits of record paths in filters and rules. Each is tested at N and N+1. */

/** Relation and back-relation hops in one path (`a.b.c.d.e.f.name` is 6; PocketBase `maxNestedRels`). */
export const MAX_RELATION_HOPS = 6
/** Keys and indexes of a JSON path after its field (`meta.a.b.0` is 3). */
export const MAX_JSON_PATH_SEGMENTS = 32
