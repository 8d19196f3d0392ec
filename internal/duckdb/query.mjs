// Runs one SQL statement in an in-memory DuckDB and prints the result as JSON:
//   {"columns": [...names], "types": [...DuckDB type names], "rows": [[...], ...]}
// SQL comes from argv[2], or stdin when no argument is given.
//
// Values: NULL is null; VARCHAR, BOOLEAN and 32-bit-or-smaller numbers are
// their JSON equivalents; 64-bit integers are numbers when they fit in a
// double exactly and decimal strings otherwise; every TIMESTAMP flavour is an
// RFC 3339 UTC string with exactly six fractional digits (DuckDB's
// microsecond resolution), e.g. "2020-01-02T03:04:05.678000Z"; anything else
// is DuckDB's own text form. Errors go to stderr with a non-zero exit.
import { DuckDBInstance } from '@duckdb/node-api';

async function readSQL() {
  if (process.argv.length > 2) return process.argv[2];
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function isoFromMicros(micros) {
  const sec = micros / 1000000n - (micros % 1000000n < 0n ? 1n : 0n);
  const frac = micros - sec * 1000000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${base}.${frac.toString().padStart(6, '0')}Z`;
}

function toJSON(v) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  const name = v.constructor && v.constructor.name;
  switch (name) {
    case 'DuckDBTimestampValue':
    case 'DuckDBTimestampTZValue':
      return isoFromMicros(v.micros);
    case 'DuckDBTimestampMillisecondsValue':
      return isoFromMicros(v.millis * 1000n);
    case 'DuckDBTimestampSecondsValue':
      return isoFromMicros(v.seconds * 1000000n);
    case 'DuckDBTimestampNanosecondsValue':
      return isoFromMicros(v.nanos / 1000n);
  }
  return v.toString();
}

async function main() {
  const sql = await readSQL();
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    const out = {
      columns: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.toString()),
      rows: reader.getRows().map((r) => r.map(toJSON)),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

main().catch((err) => {
  process.stderr.write(`duckdb: ${err && err.message ? err.message : err}\n`);
  process.exitCode = 1;
});
