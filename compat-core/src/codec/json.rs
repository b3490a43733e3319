//! JSON as QEMU's `JSONWriter` writes the vmdesc trailer: compact, with a
//! space after `:` and `,`.

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};
use std::io;

struct QemuFormatter;

/// `, ` before every element but the first.
fn separator<W: ?Sized + io::Write>(w: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        w.write_all(b", ")
    }
}

impl Formatter for QemuFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(w, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// `value` in QEMU's compact vmdesc style.
pub fn to_qemu_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    write_qemu_json(&mut out, value);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Append `value` to `out` in QEMU's compact vmdesc style, serialized
/// straight to text.
pub fn write_qemu_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let mut ser = Serializer::with_formatter(out, QemuFormatter);
    value
        .serialize(&mut ser)
        .expect("what a stream describes serializes to JSON");
}

#[cfg(test)]
mod tests {
    #[test]
    fn compact_with_spaces() {
        let v = serde_json::json!({"a": [1, 2], "b": {"c": "d"}});
        assert_eq!(super::to_qemu_json(&v), r#"{"a": [1, 2], "b": {"c": "d"}}"#);
    }
}
