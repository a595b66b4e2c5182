// Reader 1: apache-arrow (the JavaScript implementation). Reads streams and files (the latter
// through the footer's Blocks, i.e. random access).
'use strict';
const arrow = require('apache-arrow');
const { canonTable, main } = require('./canon.cjs');

main(async (bytes) => canonTable(arrow.tableFromIPC(bytes)));
