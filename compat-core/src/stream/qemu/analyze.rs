//! What QEMU's `scripts/analyze-migration.py -f FILE` prints for a stream.

use std::io;

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
    let fmt = AsciiPretty(serde_json::ser::PrettyFormatter::with_indent(b"    "));
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(value, &mut ser).expect("a JSON value serializes");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// Pretty JSON with every character outside ASCII written as a `\uXXXX`
/// escape, as Python's `json.dumps` writes it by default: the same text
/// as QEMU's script, and no byte from a stream that a terminal would act
/// on (serde_json escapes the ASCII controls itself).
struct AsciiPretty<'a>(serde_json::ser::PrettyFormatter<'a>);

macro_rules! delegate {
    ($($name:ident $(($arg:ident: $ty:ty))?),*) => {$(
        fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W $(, $arg: $ty)?) -> io::Result<()> {
            self.0.$name(w $(, $arg)?)
        }
    )*};
}

impl serde_json::ser::Formatter for AsciiPretty<'_> {
    delegate!(
        begin_array, end_array, begin_object, end_object, begin_object_value,
        end_array_value, end_object_value,
        begin_array_value(first: bool), begin_object_key(first: bool)
    );

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(i) = rest.find(|c: char| !c.is_ascii()) {
            w.write_all(&rest.as_bytes()[..i])?;
            let c = rest[i..].chars().next().expect("a character at i");
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }
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
    #[test]
    fn text_outside_ascii_is_escaped_as_python_does() {
        let v = serde_json::json!({"n\u{e9}": ["\u{1b}[2J\u{9b}\u{1F600}"]});
        assert_eq!(
            super::analyze_text(&v),
            "{\n    \"n\\u00e9\": [\n        \"\\u001b[2J\\u009b\\ud83d\\ude00\"\n    ]\n}\n"
        );
    }

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
