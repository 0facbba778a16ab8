// Hot queries compiled once: Kysely otherwise builds and compiles the query tree on every run (about 15 µs for a
// select, 25 µs for an upsert here), which is more than SQLite takes to run most of them.
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { QueryExecutor } from './group-commit.js';

const MARK = '\u0000portcullis-param:';

/**
 * Compiles `build(placeholders)` once, on this database's dialect, and returns a function that runs the compiled SQL
 * with fresh values. Each placeholder is a marker string; after compiling, every parameter that is a marker is bound
 * to the named value at run time, and any other parameter (a constant in the query) is kept as compiled. Use only for
 * queries whose shape does not depend on the values (no `in` lists, no optional clauses).
 */
export function precompile<DB, Name extends string, Row>(
  db: Kysely<DB>,
  names: readonly Name[],
  // Placeholders stand in for values of any column type while the query is built.
  build: (p: Record<Name, any>) => Compilable<Row>,
  /** Runs the compiled query; a write may pass its database's group commit (group-commit.ts). */
  execute: QueryExecutor = (query) => db.executeQuery(query),
): (values: Record<Name, unknown>) => Promise<QueryResult<Row>> {
  const placeholders = Object.fromEntries(names.map((name) => [name, `${MARK}${name}`])) as Record<Name, string>;
  const compiled = build(placeholders).compile();
  // For each compiled parameter: the name of the value it takes, or null for a constant kept as compiled.
  const slots = compiled.parameters.map((parameter) => (typeof parameter === 'string' && parameter.startsWith(MARK) ? (parameter.slice(MARK.length) as Name) : null));
  const unused = names.filter((name) => !slots.includes(name));
  if (unused.length > 0) throw new Error(`precompile: ${unused.join(', ')} not bound in ${compiled.sql}`);
  return (values) => {
    const parameters = slots.map((name, i) => (name === null ? compiled.parameters[i] : values[name]));
    return execute<Row>({ ...compiled, parameters } as CompiledQuery<Row>);
  };
}
