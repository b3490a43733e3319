//! What QEMU's `scripts/analyze-migration.py -f FILE` prints for a stream.

use serde_json::{Map, Value};

use super::decode::{Decoded, FieldValue};
use super::document::{Body, QemuStream, Record};

impl QemuStream {
    /// The structure `analyze-migration.py -f FILE` prints: one entry per
    /// section, `"<idstr> (<section id>)"`, RAM as its block sizes, devices
    /// as their decoded fields.
    pub fn analyze(&self) -> Value {
        let mut out = Map::new();
        let mut ram_sizes: Map<String, Value> = Map::new();
        let mut ram_key = None;
        for record in &self.records {
            let Record::Section(s) = record else { continue };
            match (&s.header, &s.body) {
                (Some(h), Body::Device(d)) => {
                    out.insert(format!("{} ({})", h.idstr, s.section_id), analyze_struct(d));
                }
                (None, Body::Device(_)) => {}
                (header, Body::Ram(entries)) => {
                    for e in entries {
                        for (name, len) in &e.blocks {
                            ram_sizes.insert(name.clone(), format!("0x{len:016x}").into());
                        }
                    }
                    if let Some(h) = header {
                        let key = format!("{} ({})", h.idstr, s.section_id);
                        out.insert(key.clone(), Value::Null);
                        ram_key = Some(key);
                    }
                }
            }
        }
        if let Some(key) = ram_key {
            let mut ram = Map::new();
            ram.insert("section sizes".into(), Value::Object(ram_sizes));
            out.insert(key, Value::Object(ram));
        }
        Value::Object(out)
    }
}

/// `analyze()` printed as `analyze-migration.py` prints it: 4-space
/// indentation, a newline at the end.
pub fn analyze_text(value: &Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(value, &mut ser).expect("a JSON value serializes");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// How `analyze-migration.py` shows a leaf of vmdesc type `info`.
fn analyze_leaf(info: &str, bytes: &[u8]) -> Value {
    let signed = matches!(
        info,
        "int8"
            | "int16"
            | "int32"
            | "int32 equal"
            | "int32 le"
            | "int64"
            | "int64 equal"
            | "uint8 equal"
            | "uint16 equal"
    );
    let unsigned = matches!(
        info,
        "uint8" | "uint16" | "uint32" | "uint32 equal" | "uint64"
    );
    match info {
        "bool" => Value::Bool(bytes.first().is_some_and(|b| *b != 0)),
        "nullptr" => "nullptr".into(),
        _ if (signed || unsigned) && !bytes.is_empty() && bytes.len() <= 16 => {
            let mut u: u128 = 0;
            for b in bytes {
                u = (u << 8) | u128::from(*b);
            }
            let width = bytes.len() * 2;
            let negative = signed && bytes[0] & 0x80 != 0;
            if negative {
                let bits = bytes.len() * 8;
                let s = if bits == 128 {
                    u as i128
                } else {
                    (u as i128) - (1i128 << bits)
                };
                format!("0x{u:0width$x} ({s})").into()
            } else {
                format!("0x{u:0width$x}").into()
            }
        }
        _ => bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
            .into(),
    }
}

fn analyze_struct(d: &Decoded) -> Value {
    let mut out: Map<String, Value> = Map::new();
    for f in &d.fields {
        let value = match &f.value {
            FieldValue::Bytes(b) => analyze_leaf(&f.info, b),
            FieldValue::Struct(s) => analyze_struct(s),
        };
        // A repeated name (an unfolded array, or QEMU's same-named fields)
        // becomes a list.
        match out.get_mut(&f.name) {
            None => {
                out.insert(f.name.clone(), value);
            }
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
        }
    }
    for s in &d.subsections {
        out.insert(s.name.clone(), analyze_struct(&s.body));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_print_as_the_python_script_prints_them() {
        assert_eq!(analyze_leaf("uint16", &[0, 8]), "0x0008");
        assert_eq!(
            analyze_leaf("int32", &[0xff, 0xff, 0xff, 0xfe]),
            "0xfffffffe (-2)"
        );
        assert_eq!(analyze_leaf("uint8 equal", &[0x80]), "0x80 (-128)");
        assert_eq!(
            analyze_leaf("uint32", &[0xff, 0xff, 0xff, 0xfe]),
            "0xfffffffe"
        );
        assert_eq!(analyze_leaf("bool", &[1]), true);
        assert_eq!(analyze_leaf("pci config", &[0x36, 0x1b]), "36 1b");
        assert_eq!(analyze_leaf("buffer", &[]), "");
    }
}
