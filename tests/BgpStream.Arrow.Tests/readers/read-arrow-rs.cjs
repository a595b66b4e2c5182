// Reader 2: arrow-rs, compiled to WebAssembly in parquet-wasm. Table.fromIPCStream parses (and
// validates) our IPC stream in Rust; arrow-rs then re-encodes the table as an IPC stream of its
// own, which apache-arrow only decodes for printing: a value arrow-rs misread would show.
// parquet-wasm has no IPC file reader, so for a file the messages between magic and footer are used.
'use strict';
const parquet = require('parquet-wasm');
const arrow = require('apache-arrow');
const { canonTable, streamBytesOf, main } = require('./canon.cjs');

main(async (bytes) => {
  const table = parquet.Table.fromIPCStream(streamBytesOf(bytes));
  const batchRows = table.recordBatches().map((b) => b.numRows);
  const reencoded = table.intoIPCStream();
  const result = canonTable(arrow.tableFromIPC(reencoded));
  result.batches = batchRows;
  return result;
});
