//! The vmdesc JSON trailer of a stream, in QEMU's key layout
//! (`migration/vmstate.c` `vmsd_desc_field_start/end`): each device is
//! `{"name", "instance_id", "vmsd_name", "version", "fields": [...],
//! "subsections": [...]}`, each field `{"name", ["array_len"], "type",
//! ["struct"], "size"}` with the bytes actually written.

use serde_json::{json, Map, Value};

/// A scalar or buffer field: `{"name", "type", "size"}`.
pub fn field(name: &str, info: &str, size: usize) -> Value {
    json!({"name": name, "type": info, "size": size})
}

/// An array of `len` elements: `{"name", "array_len", "type", "size"}`,
/// `size` being one element's.
pub fn array(name: &str, len: usize, info: &str, elem_size: usize) -> Value {
    json!({"name": name, "array_len": len, "type": info, "size": elem_size})
}

/// A nested struct: `{"name", "type": "struct", "struct": {...}, "size"}`.
pub fn nested(name: &str, inner: Value) -> Value {
    let size = written_size(&inner);
    json!({"name": name, "type": "struct", "struct": inner, "size": size})
}

/// A description: `{"vmsd_name", "version", "fields", ["subsections"]}`.
pub fn vmsd(name: &str, version: u32, fields: Vec<Value>, subsections: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("vmsd_name".into(), name.into());
    m.insert("version".into(), version.into());
    m.insert("fields".into(), Value::Array(fields));
    if !subsections.is_empty() {
        m.insert("subsections".into(), Value::Array(subsections));
    }
    Value::Object(m)
}

/// The bytes a described struct occupies in the stream: its fields
/// (elements × size), then each subsection with its header.
pub fn written_size(desc: &Value) -> usize {
    let fields: usize = desc["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let size = f["size"].as_u64().unwrap_or(0) as usize;
                    let n = f["array_len"].as_u64().unwrap_or(1) as usize;
                    size * n
                })
                .sum()
        })
        .unwrap_or(0);
    let subsections: usize = desc["subsections"]
        .as_array()
        .map(|ss| {
            ss.iter()
                .map(|s| {
                    let name = s["vmsd_name"].as_str().unwrap_or("");
                    1 + 1 + name.len() + 4 + written_size(s)
                })
                .sum()
        })
        .unwrap_or(0);
    fields + subsections
}
