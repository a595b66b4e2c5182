// Reader 3: DuckDB (duckdb-wasm), whose Arrow ingestion (insertArrowFromIPCStream) decodes the IPC
// stream into DuckDB's own vectors; the values are then read back with a query, and the schema is
// DuckDB's (DESCRIBE). duckdb-wasm takes streams only, so for a file the messages between magic
// and footer are used. Batch boundaries do not survive a table, so "batches" is null.
'use strict';
const path = require('path');
const duckdb = require('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs');
const { canonTable, streamBytesOf, main } = require('./canon.cjs');

async function open() {
  const dist = path.dirname(require.resolve('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs'));
  const bundles = {
    mvp: { mainModule: path.join(dist, 'duckdb-mvp.wasm'), mainWorker: path.join(dist, 'duckdb-node-mvp.worker.cjs') },
    eh: { mainModule: path.join(dist, 'duckdb-eh.wasm'), mainWorker: path.join(dist, 'duckdb-node-eh.worker.cjs') },
  };
  const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate(() => {});
  return db.connect();
}

let connection;
let n = 0;
main(async (bytes) => {
  connection ??= await open();
  const table = `t${n++}`;
  connection.insertArrowFromIPCStream(streamBytesOf(bytes), { name: table, create: true });
  const described = connection.query(`DESCRIBE ${table}`).toArray().map((r) => r.toJSON());
  const result = canonTable(connection.query(`SELECT * FROM ${table}`));
  result.schema = described.map((r) => ({ name: r.column_name, type: r.column_type, nullable: r.null === 'YES' }));
  result.batches = null;
  connection.query(`DROP TABLE ${table}`);
  return result;
});
