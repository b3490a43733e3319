//! Device sections decoded through the stream's own vmdesc JSON: the wire
//! carries no field names or lengths, the description does.

use serde_json::Value;

use super::document::bad_vmdesc;
use crate::codec::QEMU_VM_SUBSECTION;
use crate::codec::{LoadError, StreamReader, StreamWriter};

/// The most elements one described array may have: a vmdesc is input too,
/// and an `array_len` from it must not make the reader loop for ever.
const MAX_ARRAY_LEN: u64 = 1 << 24;
/// How deep described structs may nest.
const MAX_DEPTH: usize = 64;

/// A struct decoded through its vmdesc.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Its fields, arrays unfolded into one field per element.
    pub fields: Vec<DecodedField>,
    /// Its subsections, in stream order.
    pub subsections: Vec<DecodedSubsection>,
}

/// One decoded field.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedField {
    /// Its name.
    pub name: String,
    /// Its vmdesc type (`uint32`, `struct`, `pci config`, ...).
    pub info: String,
    /// Its value.
    pub value: FieldValue,
}

/// A field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// The bytes of a leaf field.
    Bytes(Vec<u8>),
    /// A nested struct.
    Struct(Decoded),
}

/// A decoded subsection.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedSubsection {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version_id: u32,
    /// Its contents.
    pub body: Decoded,
}

pub(super) fn decode_struct(
    r: &mut StreamReader<'_>,
    desc: &Value,
    depth: usize,
) -> Result<Decoded, LoadError> {
    if depth > MAX_DEPTH {
        return Err(bad_vmdesc("structs nest too deeply", r.offset()));
    }
    let fields_desc = desc["fields"]
        .as_array()
        .ok_or_else(|| bad_vmdesc("a description without fields", r.offset()))?;
    let mut fields = Vec::new();
    for f in fields_desc {
        let name = f["name"]
            .as_str()
            .ok_or_else(|| bad_vmdesc("a field without a name", r.offset()))?;
        let info = f["type"].as_str().unwrap_or("unknown");
        let count = f["array_len"].as_u64().unwrap_or(1);
        if count > MAX_ARRAY_LEN {
            return Err(bad_vmdesc(
                format!("field '{name}' has array_len {count}"),
                r.offset(),
            ));
        }
        for _ in 0..count {
            let value = if info == "struct" {
                let inner = &f["struct"];
                FieldValue::Struct(
                    decode_struct(r, inner, depth + 1).map_err(|e| e.in_field(name))?,
                )
            } else {
                let size = f["size"]
                    .as_u64()
                    .ok_or_else(|| bad_vmdesc(format!("field '{name}' has no size"), r.offset()))?;
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                FieldValue::Bytes(r.get_bytes(size).map_err(|e| e.in_field(name))?.to_vec())
            };
            fields.push(DecodedField {
                name: name.to_owned(),
                info: info.to_owned(),
                value,
            });
        }
    }
    let mut subsections = Vec::new();
    for s in desc["subsections"].as_array().into_iter().flatten() {
        let at = r.offset();
        let expected = s["vmsd_name"].as_str().unwrap_or("");
        if r.peek_u8() != Some(QEMU_VM_SUBSECTION) {
            return Err(bad_vmdesc(format!("subsection '{expected}' not found"), at));
        }
        r.get_u8()?;
        let name = r.get_name()?.to_owned();
        if name != expected {
            return Err(bad_vmdesc(
                format!("subsection '{name}' where the vmdesc says '{expected}'"),
                at,
            ));
        }
        let version_id = r.get_u32()?;
        let body = decode_struct(r, s, depth + 1).map_err(|e| e.in_field(&name))?;
        subsections.push(DecodedSubsection {
            name,
            version_id,
            body,
        });
    }
    Ok(Decoded {
        fields,
        subsections,
    })
}

pub(super) fn encode_struct(w: &mut StreamWriter, d: &Decoded) {
    for f in &d.fields {
        match &f.value {
            FieldValue::Bytes(b) => w.put_bytes(b),
            FieldValue::Struct(s) => encode_struct(w, s),
        }
    }
    for s in &d.subsections {
        w.put_subsection_header(&s.name, s.version_id);
        encode_struct(w, &s.body);
    }
}
