// Turns an apache-arrow Table into canonical JSON that the C# tests compare against:
//   { schema: [{name, type, nullable}], batches: [rows per batch], columns: {name: [cell...]} }
// cells: null; integers and timestamps as decimal strings (exact for 64 bits); floats as JS number
// strings; booleans; strings; binary as lowercase hex; dictionaries decoded; lists as arrays.
'use strict';
const arrow = require('apache-arrow');
const { Type } = arrow;

function typeName(t) {
  switch (t.typeId) {
    case Type.Int: return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
    case Type.Float: return ['float16', 'float32', 'float64'][t.precision];
    case Type.Bool: return 'bool';
    case Type.Utf8: return 'utf8';
    case Type.LargeUtf8: return 'large_utf8';
    case Type.Binary: return 'binary';
    case Type.LargeBinary: return 'large_binary';
    case Type.FixedSizeBinary: return `fixed_size_binary[${t.byteWidth}]`;
    case Type.Timestamp: return `timestamp[${['s', 'ms', 'us', 'ns'][t.unit]}${t.timezone ? ',' + t.timezone : ''}]`;
    case Type.List: {
      const c = t.children[0];
      return `list<${typeName(c.type)}${c.nullable ? '' : ' not null'}>`;
    }
    case Type.Dictionary: return `dictionary<${typeName(t.indices)},${typeName(t.dictionary)}>`;
    default: return `other:${String(t)}`;
  }
}

const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

function cell(t, v) {
  if (v === null || v === undefined) return null;
  switch (t.typeId) {
    case Type.Int: case Type.Float: return String(v);
    case Type.Bool: return Boolean(v);
    case Type.Utf8: case Type.LargeUtf8: return v;
    case Type.Binary: case Type.LargeBinary: case Type.FixedSizeBinary: return hex(v);
    case Type.Dictionary: return cell(t.dictionary, v);
    case Type.List: return Array.from(v, (x) => cell(t.children[0].type, x));
    default: throw new Error(`canon: no rule for type ${String(t)}`);
  }
}

// Timestamps come back from get() as (lossy) float milliseconds; read the int64 values instead.
function timestampColumn(vector) {
  const out = [];
  for (const data of vector.data) {
    for (let i = 0; i < data.length; i++) {
      if (!data.getValid(i)) { out.push(null); continue; }
      const values = data.values;
      if (values instanceof BigInt64Array) out.push(values[i].toString());
      else { // int32 pairs (older layouts)
        const lo = BigInt(values[2 * i] >>> 0), hi = BigInt(values[2 * i + 1]);
        out.push(((hi << 32n) | lo).toString());
      }
    }
  }
  return out;
}

function canonTable(table) {
  const schema = table.schema.fields.map((f) => ({ name: f.name, type: typeName(f.type), nullable: f.nullable }));
  const columns = {};
  for (const f of table.schema.fields) {
    const vector = table.getChild(f.name);
    if (f.type.typeId === Type.Timestamp) { columns[f.name] = timestampColumn(vector); continue; }
    const values = new Array(vector.length);
    for (let i = 0; i < vector.length; i++) values[i] = cell(f.type, vector.get(i));
    columns[f.name] = values;
  }
  return { schema, batches: table.batches.map((b) => b.numRows), columns };
}

// The messages of an Arrow file between the leading magic and the footer are a valid IPC stream
// (the spec's file layout). Readers that only take streams get those bytes.
function streamBytesOf(bytes) {
  const magic = Buffer.from('ARROW1');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 18 || !buf.subarray(0, 6).equals(magic)) return bytes;
  if (!buf.subarray(buf.length - 6).equals(magic)) throw new Error('file does not end with ARROW1');
  const footerLength = buf.readInt32LE(buf.length - 10);
  const end = buf.length - 10 - footerLength;
  if (footerLength <= 0 || end < 8) throw new Error(`bad footer length ${footerLength}`);
  return new Uint8Array(buf.buffer, buf.byteOffset + 8, end - 8);
}

async function main(readFile) {
  const fs = require('fs');
  const out = {};
  for (const path of process.argv.slice(2)) {
    try {
      out[path] = await readFile(new Uint8Array(fs.readFileSync(path)), path);
    } catch (e) {
      out[path] = { error: String(e && e.stack || e) };
    }
  }
  process.stdout.write(JSON.stringify(out));
}

module.exports = { canonTable, streamBytesOf, typeName, main };
