//! Device sections decoded through the stream's own vmdesc trailer, read
//! into a [`Layout`]: the wire carries no field names or lengths, the
//! description does.

use crate::text::escape::escaped;
use serde_json::Value;

use crate::codec::QEMU_VM_SUBSECTION;
use crate::codec::{LoadError, LoadErrorKind, StreamReader, StreamWriter};
use crate::vmstate::Layout;

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

/// Decode a struct described by the vmdesc JSON `desc`, read into a
/// layout first (a malformed description is an error at the struct's
/// offset).
pub(super) fn decode_described(
    r: &mut StreamReader<'_>,
    desc: &Value,
) -> Result<Decoded, LoadError> {
    let layout = Layout::from_json(desc).map_err(|why| bad_vmdesc(why, r.offset()))?;
    decode_struct(r, &layout)
}

fn decode_struct(r: &mut StreamReader<'_>, layout: &Layout) -> Result<Decoded, LoadError> {
    let mut fields = Vec::new();
    for f in &layout.fields {
        let name = f.name.as_ref();
        let count = f.array_len.unwrap_or(1);
        // Elements of no bytes cost memory too: the budget bounds them.
        r.charge(count).map_err(|e| e.in_field(name))?;
        for _ in 0..count {
            let value = match &f.nested {
                Some(inner) => {
                    FieldValue::Struct(decode_struct(r, inner).map_err(|e| e.in_field(name))?)
                }
                None => {
                    FieldValue::Bytes(r.get_bytes(f.size).map_err(|e| e.in_field(name))?.to_vec())
                }
            };
            fields.push(DecodedField {
                name: name.to_owned(),
                info: f.info.to_string(),
                value,
            });
        }
    }
    let mut subsections = Vec::new();
    for s in &layout.subsections {
        let at = r.offset();
        let expected = s.name.as_ref();
        if r.peek_u8() != Some(QEMU_VM_SUBSECTION) {
            return Err(bad_vmdesc(
                format!("subsection '{}' not found", escaped(expected)),
                at,
            ));
        }
        r.get_u8()?;
        let name = r.get_name()?.to_owned();
        if name != expected {
            return Err(bad_vmdesc(
                format!(
                    "subsection '{}' where the vmdesc says '{}'",
                    escaped(&name),
                    escaped(expected)
                ),
                at,
            ));
        }
        let version_id = r.get_u32()?;
        let body = decode_struct(r, s).map_err(|e| e.in_field(&name))?;
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

/// A vmdesc trailer that does not describe the stream, at offset `at`.
pub(super) fn bad_vmdesc(why: impl Into<String>, at: usize) -> LoadError {
    LoadError::new(LoadErrorKind::BadVmdesc(why.into()), at)
}
