//! The layout of a struct as it goes on the wire: its fields with their
//! QEMU type names, sizes and counts, nested structs, the subsections that
//! are sent, and the must-match values with their masks. One typed value
//! serves every consumer: `#[derive(VMState)]` builds it from a value, the
//! stream writes it as the vmdesc trailer (QEMU's key layout, from
//! `migration/vmstate.c` `vmsd_desc_field_start/end`), the checker compares
//! two of them, and the reader of QEMU streams parses a trailer into one to
//! decode the sections it describes.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::reading::{reading, FieldShape, Reading};
use super::{field_path, MustMatchValue};

/// How deep described structs may nest in a layout read from a stream.
pub const MAX_DEPTH: usize = 64;

/// The most elements one described array may have in a layout read from a
/// stream: a trailer is input too, and an `array_len` from it must not make
/// a reader loop for ever.
pub const MAX_ARRAY_LEN: u64 = compat_text::limits::MAX_ELEMENTS as u64;

/// A struct as it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Layout {
    /// The VMState name (`vmsd_name`).
    pub name: Cow<'static, str>,
    /// The version written.
    pub version: u32,
    /// The fields written, in order.
    pub fields: Vec<FieldLayout>,
    /// The subsections written, in order.
    pub subsections: Vec<Layout>,
}

/// One field as it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldLayout {
    /// The field's name.
    pub name: Cow<'static, str>,
    /// QEMU's `VMStateInfo` name (`uint32`, `buffer`, `struct`,
    /// `unused_buffer`, `uint8 equal`).
    pub info: Cow<'static, str>,
    /// Bytes of one element (of the whole struct for `struct`).
    pub size: usize,
    /// The element count of an array; `None` for one value.
    pub array_len: Option<usize>,
    /// The layout of a nested struct.
    pub nested: Option<Box<Layout>>,
    /// For a must-match field: its bytes on the wire and the mask a load
    /// compares them under.
    pub must_match: Option<MustMatch>,
    /// For a list or map (`qtailq`, `qlist`, `gtree`): the layout of its
    /// last element, whose keys QEMU writes into the field's own object
    /// (it writes every element's, and JSON readers keep the last).
    pub inline: Option<Box<Layout>>,
}

/// The value a must-match field has, as a load compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MustMatch {
    /// The bytes on the wire.
    pub bytes: Vec<u8>,
    /// Per-byte mask of the bits compared; `None` for all of them.
    pub mask: Option<Vec<u8>>,
}

impl FieldLayout {
    /// One scalar or buffer of `size` bytes.
    pub fn value(name: &'static str, info: &'static str, size: usize) -> Self {
        FieldLayout {
            name: Cow::Borrowed(name),
            info: Cow::Borrowed(info),
            size,
            array_len: None,
            nested: None,
            must_match: None,
            inline: None,
        }
    }

    /// One value whose name and type come from outside (a lock, a
    /// stream's trailer).
    pub fn value_owned(name: String, info: String, size: usize) -> Self {
        FieldLayout {
            name: Cow::Owned(name),
            info: Cow::Owned(info),
            size,
            array_len: None,
            nested: None,
            must_match: None,
            inline: None,
        }
    }

    /// An array of `len` elements of `elem_size` bytes.
    pub fn array(name: &'static str, len: usize, info: &'static str, elem_size: usize) -> Self {
        FieldLayout {
            array_len: Some(len),
            ..FieldLayout::value(name, info, elem_size)
        }
    }

    /// A nested struct.
    pub fn nested(name: &'static str, inner: Layout) -> Self {
        FieldLayout {
            size: inner.written_size(),
            nested: Some(Box::new(inner)),
            ..FieldLayout::value(name, "struct", 0)
        }
    }

    /// This field, compared on load with the destination's `bytes` under
    /// `mask`.
    pub fn must_match(mut self, bytes: Vec<u8>, mask: Option<Vec<u8>>) -> Self {
        self.must_match = Some(MustMatch { bytes, mask });
        self
    }

    /// The layout of an array whose every slot is marked, slot by slot: a
    /// `ptr-marker` byte, then the element of a present slot (as the QEMU
    /// that has `VMS_ARRAY_OF_POINTER_AUTO_ALLOC` describes it; QEMU 10.0's
    /// `analyze-migration.py` shows the markers as bytes).
    pub fn marked_slots(
        name: &'static str,
        slots: impl IntoIterator<Item = Option<FieldLayout>>,
    ) -> Vec<FieldLayout> {
        let mut out = Vec::new();
        for slot in slots {
            out.push(FieldLayout::value(name, "ptr-marker", 1));
            out.extend(slot);
        }
        out
    }

    /// A list (`info` `qtailq` or `qlist`) of `elements`: each element is
    /// a presence byte and its fields, and one end byte closes the list.
    pub fn list(name: &'static str, info: &'static str, elements: Vec<Layout>) -> Self {
        let size = elements.iter().fold(1usize, |total, e| {
            total.saturating_add(1).saturating_add(e.written_size())
        });
        FieldLayout {
            size,
            inline: elements.into_iter().last().map(Box::new),
            ..FieldLayout::value(name, info, 0)
        }
    }

    /// An array of nested structs, one layout per element: described as
    /// QEMU describes it — the first element with the array's length when
    /// the elements' description has no subsections, else each element.
    pub fn struct_array(name: &'static str, elements: Vec<Layout>, compress: bool) -> Vec<Self> {
        let len = elements.len();
        if compress && len > 1 {
            let first = elements.into_iter().next().expect("one element");
            let mut f = FieldLayout::nested(name, first);
            f.array_len = Some(len);
            return vec![f];
        }
        elements
            .into_iter()
            .map(|e| FieldLayout::nested(name, e))
            .collect()
    }

    /// A temporary view (QEMU's `tmp`): its fields, described inside the
    /// field's own object.
    pub fn tmp(name: &'static str, view: Layout) -> Self {
        FieldLayout {
            size: view.written_size(),
            inline: Some(Box::new(view)),
            ..FieldLayout::value(name, "tmp", 0)
        }
    }

    /// A map (QEMU's `gtree`) of `entries`, each a key — `key_size` bytes,
    /// or its own layout for a struct key — and a value: a node count,
    /// then per node a presence byte, the key and the value, then an end
    /// byte.
    pub fn map(
        name: &'static str,
        entries: Vec<(Option<Layout>, Layout)>,
        key_size: usize,
    ) -> Self {
        let size = entries.iter().fold(4usize + 1, |total, (k, v)| {
            let key = k.as_ref().map_or(key_size, Layout::written_size);
            total
                .saturating_add(1)
                .saturating_add(key)
                .saturating_add(v.written_size())
        });
        FieldLayout {
            size,
            inline: entries.into_iter().last().map(|(_, v)| Box::new(v)),
            ..FieldLayout::value(name, "gtree", 0)
        }
    }

    /// The layout of an array of nullable elements, slot by slot (`None`
    /// for an empty one), as QEMU 10.0 describes it: each run of present
    /// elements as its first element with the run's `array_len` (each
    /// element on its own when `compress` is false, as QEMU does for
    /// structs it cannot compress), each run of empty slots as `nullptr`
    /// bytes. QEMU itself gives a leading run of present elements the whole
    /// array's length (its run detection starts as if after a present
    /// element), which makes its own `analyze-migration.py` misread the
    /// slots after it; this writes the runs as they are.
    pub fn nullable_runs(
        name: &'static str,
        slots: impl IntoIterator<Item = Option<FieldLayout>>,
        compress: bool,
    ) -> Vec<FieldLayout> {
        let mut out: Vec<FieldLayout> = Vec::new();
        let mut run: Option<(FieldLayout, usize)> = None;
        let flush = |run: &mut Option<(FieldLayout, usize)>, out: &mut Vec<FieldLayout>| {
            if let Some((mut first, n)) = run.take() {
                first.array_len = (n > 1).then_some(n);
                out.push(first);
            }
        };
        for slot in slots {
            let null = slot.is_none();
            let element = slot.unwrap_or_else(|| FieldLayout::value(name, "nullptr", 1));
            match &mut run {
                Some((first, n)) if first.info == element.info && (compress || null) => *n += 1,
                _ => {
                    flush(&mut run, &mut out);
                    run = Some((element, 1));
                }
            }
        }
        flush(&mut run, &mut out);
        out
    }

    /// `4 x uint32, 4 bytes each`, `uint16, 2 bytes` or `struct`: the field's
    /// shape in words.
    pub fn shape(&self) -> String {
        match self.array_len {
            Some(n) => format!("{n} x {}, {} bytes each", self.info, self.size),
            None if self.nested.is_some() => "struct".to_owned(),
            None => format!("{}, {} bytes", self.info, self.size),
        }
    }

    /// Bytes on the wire, when known: elements times element size (a
    /// nested struct's, or a list's, is not).
    pub fn wire_bytes(&self) -> Option<usize> {
        match (&self.nested, self.array_len) {
            (Some(_), _) => None,
            (None, n) => self.size.checked_mul(n.unwrap_or(1)),
        }
    }

    /// Skipped bytes (`VMSTATE_UNUSED`): written as zeros, read and
    /// thrown away.
    pub fn is_unused(&self) -> bool {
        self.info == "unused_buffer"
    }

    /// What the one rule of how a destination reads a field
    /// ([`reading()`](super::reading::reading())) needs of this one.
    pub fn as_shape(&self) -> FieldShape<'_> {
        FieldShape {
            name: &self.name,
            info: &self.info,
            size: self.size,
            count: self.array_len,
            unused: self.is_unused(),
            nested: self.nested.is_some(),
        }
    }
}

impl Layout {
    /// A layout of `name` at `version`.
    pub fn new(name: &'static str, version: u32) -> Self {
        Layout::named(Cow::Borrowed(name), version)
    }

    /// A layout of `name` (borrowed or read from outside) at `version`.
    pub fn named(name: Cow<'static, str>, version: u32) -> Self {
        Layout {
            name,
            version,
            fields: Vec::new(),
            subsections: Vec::new(),
        }
    }

    /// The layout without what a value carries beyond its shape (must-match
    /// bytes, the last element of a list or map): what a lock records of
    /// a fresh device.
    pub fn shape_only(&self) -> Layout {
        Layout {
            name: self.name.clone(),
            version: self.version,
            fields: self
                .fields
                .iter()
                .map(|f| FieldLayout {
                    must_match: None,
                    inline: None,
                    nested: f.nested.as_deref().map(|n| Box::new(n.shape_only())),
                    ..f.clone()
                })
                .collect(),
            subsections: self.subsections.iter().map(Layout::shape_only).collect(),
        }
    }

    /// Whether a destination reading `self` takes what `written` sends the
    /// same way: the same fields and subsections by the one rule of how a
    /// destination reads a field ([`reading()`](super::reading::reading())):
    /// renamed fields and fields retired as skipped bytes of the same size
    /// read alike.
    pub fn reads_alike(&self, written: &Layout) -> bool {
        let sent = |n: &str| written.fields.iter().any(|f| f.name == n);
        let own = |n: &str| self.fields.iter().any(|f| f.name == n);
        let field = |w: &FieldLayout, r: &FieldLayout| {
            matches!(
                reading(w.as_shape(), r.as_shape(), sent, own),
                Reading::Alike | Reading::Renamed
            ) && match (&w.nested, &r.nested) {
                (Some(x), Some(y)) => y.reads_alike(x),
                (None, None) => true,
                _ => false,
            }
        };
        (&self.name, self.version) == (&written.name, written.version)
            && self.fields.len() == written.fields.len()
            && written
                .fields
                .iter()
                .zip(&self.fields)
                .all(|(w, r)| field(w, r))
            && self.subsections.len() == written.subsections.len()
            && self
                .subsections
                .iter()
                .zip(&written.subsections)
                .all(|(r, w)| r.reads_alike(w))
    }

    /// The bytes it occupies in the stream: its fields (elements × size),
    /// then each subsection with its header.
    /// A layout read from a stream may claim any sizes, so the sum
    /// saturates instead of overflowing.
    pub fn written_size(&self) -> usize {
        let fields = self.fields.iter().fold(0usize, |total, f| {
            total.saturating_add(f.size.saturating_mul(f.array_len.unwrap_or(1)))
        });
        self.subsections.iter().fold(fields, |total, s| {
            total
                .saturating_add(1 + 1 + 4)
                .saturating_add(s.name.len())
                .saturating_add(s.written_size())
        })
    }

    /// Every must-match value, nested ones included, with its path (`a.b`).
    pub fn must_match_values(&self) -> Vec<MustMatchValue> {
        let mut out = Vec::new();
        self.collect_must_match("", &mut out);
        out
    }

    fn collect_must_match(&self, prefix: &str, out: &mut Vec<MustMatchValue>) {
        for f in &self.fields {
            let path = field_path(prefix, &f.name);
            if let Some(m) = &f.must_match {
                out.push(MustMatchValue {
                    path: path.clone(),
                    bytes: m.bytes.clone(),
                    mask: m.mask.clone(),
                });
            }
            if let Some(inner) = &f.nested {
                inner.collect_must_match(&path, out);
            }
        }
    }

    /// The vmdesc JSON of the layout, in QEMU's key order:
    /// `{"vmsd_name", "version", "fields": [{"name", ["array_len"], "type",
    /// ["struct"], "size"}], ["subsections"]}`. The layout also serializes
    /// straight to text (it is `Serialize`), without this value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a layout serializes")
    }

    /// Serialize the layout's keys into a map the caller has started (after
    /// keys the caller put first, as a device's name in a trailer).
    pub fn serialize_entries<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        m.serialize_entry("vmsd_name", self.name.as_ref())?;
        m.serialize_entry("version", &self.version)?;
        m.serialize_entry("fields", &self.fields)?;
        if !self.subsections.is_empty() {
            m.serialize_entry("subsections", &self.subsections)?;
        }
        Ok(())
    }

    /// Read a layout from vmdesc JSON (a stream's trailer), refusing what
    /// could make a reader loop for ever or recurse without end.
    pub fn from_json(desc: &Value) -> Result<Layout, String> {
        Self::from_json_at(desc, 0)
    }

    fn from_json_at(desc: &Value, depth: usize) -> Result<Layout, String> {
        if depth > MAX_DEPTH {
            return Err("structs nest too deeply".into());
        }
        let fields_desc = desc["fields"]
            .as_array()
            .ok_or("a description without fields")?;
        let mut fields = Vec::with_capacity(fields_desc.len());
        for f in fields_desc {
            let name = f["name"].as_str().ok_or("a field without a name")?;
            let info = f["type"].as_str().unwrap_or("unknown");
            let count = f["array_len"].as_u64();
            if count.is_some_and(|n| n > MAX_ARRAY_LEN) {
                return Err(format!(
                    "field '{}' has array_len {}",
                    crate::text::escape::escaped(name),
                    count.unwrap_or_default()
                ));
            }
            let (size, nested) = if info == "struct" {
                let inner = Self::from_json_at(&f["struct"], depth + 1)?;
                (inner.written_size(), Some(Box::new(inner)))
            } else {
                let size = f["size"].as_u64().ok_or_else(|| {
                    format!("field '{}' has no size", crate::text::escape::escaped(name))
                })?;
                (usize::try_from(size).unwrap_or(usize::MAX), None)
            };
            fields.push(FieldLayout {
                array_len: count.map(|n| n as usize),
                nested,
                ..FieldLayout::value_owned(name.to_owned(), info.to_owned(), size)
            });
        }
        let mut subsections = Vec::new();
        for s in desc["subsections"].as_array().into_iter().flatten() {
            subsections.push(Self::from_json_at(s, depth + 1)?);
        }
        Ok(Layout {
            name: Cow::Owned(desc["vmsd_name"].as_str().unwrap_or("").to_owned()),
            version: desc["version"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0),
            fields,
            subsections,
        })
    }
}

impl Serialize for Layout {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        self.serialize_entries(&mut m)?;
        m.end()
    }
}

impl Serialize for FieldLayout {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("name", self.name.as_ref())?;
        if let Some(n) = self.array_len {
            m.serialize_entry("array_len", &n)?;
        }
        m.serialize_entry("type", self.info.as_ref())?;
        if let Some(inner) = &self.nested {
            m.serialize_entry("struct", inner)?;
        }
        if let Some(inline) = &self.inline {
            inline.serialize_entries(&mut m)?;
        }
        m.serialize_entry("size", &self.size)?;
        m.end()
    }
}
