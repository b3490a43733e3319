//! Whole streams as QEMU writes them — RAM included — read into a
//! document, written back byte for byte, and shown the way QEMU's
//! `scripts/analyze-migration.py` shows them.
//!
//! Device sections carry no field names or lengths on the wire, so they
//! are decoded through the stream's own vmdesc JSON trailer, which is
//! located first (it runs to the end of the file). RAM sections use the
//! trailer's `page_size`.

use serde_json::{Map, Value};

use super::error::{LoadError, LoadErrorKind};
use super::reader::StreamReader;
use super::writer::StreamWriter;
use super::*;
use crate::vmstate::Migratable;

const RAM_SAVE_FLAG_ZERO: u64 = 0x02;
const RAM_SAVE_FLAG_MEM_SIZE: u64 = 0x04;
const RAM_SAVE_FLAG_PAGE: u64 = 0x08;
const RAM_SAVE_FLAG_EOS: u64 = 0x10;
const RAM_SAVE_FLAG_CONTINUE: u64 = 0x20;
const RAM_SAVE_FLAG_XBZRLE: u64 = 0x40;
const RAM_SAVE_FLAG_HOOK: u64 = 0x80;
const RAM_SAVE_FLAG_MULTIFD_FLUSH: u64 = 0x200;
const RAM_KNOWN_FLAGS: u64 = RAM_SAVE_FLAG_ZERO
    | RAM_SAVE_FLAG_MEM_SIZE
    | RAM_SAVE_FLAG_PAGE
    | RAM_SAVE_FLAG_EOS
    | RAM_SAVE_FLAG_CONTINUE
    | RAM_SAVE_FLAG_MULTIFD_FLUSH;

/// The most elements one described array may have: a vmdesc is input too,
/// and an `array_len` from it must not make the reader loop for ever.
const MAX_ARRAY_LEN: u64 = 1 << 24;
/// How deep described structs may nest.
const MAX_DEPTH: usize = 64;

/// A whole stream.
#[derive(Debug, Clone, PartialEq)]
pub struct QemuStream {
    /// The records between the header and the end, in order.
    pub records: Vec<Record>,
    /// The vmdesc trailer: its exact bytes and their JSON.
    pub vmdesc: Option<Vmdesc>,
}

/// The vmdesc trailer.
#[derive(Debug, Clone, PartialEq)]
pub struct Vmdesc {
    /// The bytes as written.
    pub raw: Vec<u8>,
    /// Their JSON.
    pub json: Value,
}

/// One record of a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// The configuration section.
    Configuration(Configuration),
    /// A section or a part of one.
    Section(SectionRecord),
    /// A section footer.
    Footer {
        /// The section id it closes.
        section_id: u32,
    },
    /// A command.
    Command {
        /// The command number.
        command: u16,
        /// Its data.
        data: Vec<u8>,
    },
}

/// The configuration section.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    /// The machine type name.
    pub machine: String,
    /// The body decoded through the vmdesc `configuration` entry (QEMU 10
    /// describes it; 7.2 does not).
    pub decoded: Option<Decoded>,
}

/// A section record.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionRecord {
    /// `QEMU_VM_SECTION_*`.
    pub kind: u8,
    /// The section id.
    pub section_id: u32,
    /// idstr, instance and version, for START and FULL records.
    pub header: Option<SectionHeader>,
    /// Byte offset of the section's data in the stream.
    pub offset: usize,
    /// The section's data.
    pub body: Body,
}

/// The header of a START or FULL record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionHeader {
    /// The idstr.
    pub idstr: String,
    /// The instance id.
    pub instance_id: u32,
    /// The version.
    pub version_id: u32,
}

/// A section's data.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// RAM entries, up to and including the end-of-section marker.
    Ram(Vec<RamEntry>),
    /// A device's fields, decoded through the vmdesc.
    Device(Decoded),
}

/// One RAM entry: a be64 of page address and flags, then its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RamEntry {
    /// The be64 as written: address bits and flag bits.
    pub header: u64,
    /// RAM blocks and their lengths (with `MEM_SIZE`).
    pub blocks: Vec<(String, u64)>,
    /// The block name, when the entry does not continue the last block.
    pub block: Option<String>,
    /// The fill byte of a zero (compressed) page.
    pub fill: Option<u8>,
    /// A whole page.
    pub page: Option<Vec<u8>>,
}

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

fn bad_vmdesc(why: impl Into<String>, at: usize) -> LoadError {
    LoadError::new(LoadErrorKind::BadVmdesc(why.into()), at)
}

/// Find the vmdesc trailer: a 0x06 marker and a be32 length followed by
/// that much JSON, normally running to the end of the stream. Returns the
/// JSON's start and length.
fn find_trailer(bytes: &[u8]) -> Option<(usize, usize)> {
    let tail_start = bytes.len().saturating_sub(64 << 20);
    (tail_start.max(5)..bytes.len()).find_map(|p| {
        if bytes[p] != b'{' || bytes[p - 5] != QEMU_VM_VMDESCRIPTION {
            return None;
        }
        let len = u32::from_be_bytes(bytes[p - 4..p].try_into().expect("4 bytes")) as usize;
        let json = bytes.get(p..p.checked_add(len)?)?;
        serde_json::from_slice::<Value>(json).ok().map(|_| (p, len))
    })
}

impl QemuStream {
    /// Read a whole stream.
    pub fn parse(bytes: &[u8]) -> Result<QemuStream, LoadError> {
        let vmdesc = match find_trailer(bytes) {
            Some((p, len)) => {
                if p + len < bytes.len() {
                    return Err(LoadError::new(
                        LoadErrorKind::TrailingGarbage {
                            len: bytes.len() - p - len,
                        },
                        p + len,
                    ));
                }
                let raw = bytes[p..].to_vec();
                let json: Value =
                    serde_json::from_slice(&raw).map_err(|e| bad_vmdesc(e.to_string(), p))?;
                Some((p - 5, Vmdesc { raw, json }))
            }
            None => None,
        };
        let (end, desc) = match &vmdesc {
            Some((at, d)) => (*at, Some(&d.json)),
            None => (bytes.len(), None),
        };
        let page_size = desc.and_then(|d| d["page_size"].as_u64()).unwrap_or(4096);
        if !page_size.is_power_of_two() || page_size > 1 << 30 {
            return Err(bad_vmdesc(
                format!("page_size {page_size} is not a power of two"),
                end,
            ));
        }

        let mut r = StreamReader::new(&bytes[..end]);
        read_header(&mut r)?;
        let mut records = Vec::new();
        let mut ram_ids: Vec<u32> = Vec::new();
        loop {
            let at = r.offset();
            match r.get_u8()? {
                QEMU_VM_EOF => break,
                QEMU_VM_CONFIGURATION => {
                    let decoded = match desc.map(|d| &d["configuration"]) {
                        Some(c) if c.is_object() => Some(decode_struct(&mut r, c, 0)?),
                        _ => None,
                    };
                    let machine = match &decoded {
                        Some(d) => d
                            .fields
                            .iter()
                            .find(|f| f.name == "name")
                            .and_then(|f| match &f.value {
                                FieldValue::Bytes(b) => String::from_utf8(b.clone()).ok(),
                                FieldValue::Struct(_) => None,
                            })
                            .ok_or_else(|| bad_vmdesc("configuration has no name field", at))?,
                        None => read_configuration(&mut r)?,
                    };
                    records.push(Record::Configuration(Configuration { machine, decoded }));
                }
                kind @ (QEMU_VM_SECTION_START | QEMU_VM_SECTION_FULL) => {
                    let section_id = r.get_u32()?;
                    let header = SectionHeader {
                        idstr: r.get_name()?.to_owned(),
                        instance_id: r.get_u32()?,
                        version_id: r.get_u32()?,
                    };
                    let offset = r.offset();
                    let body = if header.idstr == "ram" && header.instance_id == 0 {
                        if header.version_id != 4 {
                            return Err(r.error(LoadErrorKind::Unsupported(format!(
                                "RAM section version {}",
                                header.version_id
                            ))));
                        }
                        ram_ids.push(section_id);
                        Body::Ram(read_ram(&mut r, page_size)?)
                    } else {
                        let device = desc
                            .and_then(|d| d["devices"].as_array())
                            .and_then(|ds| {
                                ds.iter().find(|d| {
                                    d["name"] == header.idstr.as_str()
                                        && d["instance_id"] == header.instance_id
                                })
                            })
                            .ok_or_else(|| {
                                LoadError::new(
                                    LoadErrorKind::Unsupported(format!(
                                        "no description of section '{}' instance {} in the \
                                         vmdesc trailer, so its fields cannot be decoded",
                                        header.idstr, header.instance_id
                                    )),
                                    at,
                                )
                            })?;
                        let sref = SectionRef {
                            idstr: header.idstr.clone(),
                            instance_id: header.instance_id,
                            version_id: header.version_id,
                        };
                        Body::Device(
                            decode_struct(&mut r, device, 0).map_err(|e| e.in_section(&sref))?,
                        )
                    };
                    records.push(Record::Section(SectionRecord {
                        kind,
                        section_id,
                        header: Some(header),
                        offset,
                        body,
                    }));
                }
                kind @ (QEMU_VM_SECTION_PART | QEMU_VM_SECTION_END) => {
                    let section_id = r.get_u32()?;
                    if !ram_ids.contains(&section_id) {
                        return Err(LoadError::new(
                            LoadErrorKind::Unsupported(format!(
                                "a part of section {section_id}, which did not start as RAM"
                            )),
                            at,
                        ));
                    }
                    let offset = r.offset();
                    let body = Body::Ram(read_ram(&mut r, page_size)?);
                    records.push(Record::Section(SectionRecord {
                        kind,
                        section_id,
                        header: None,
                        offset,
                        body,
                    }));
                }
                QEMU_VM_SECTION_FOOTER => records.push(Record::Footer {
                    section_id: r.get_u32()?,
                }),
                QEMU_VM_COMMAND => {
                    let command = r.get_u16()?;
                    let len = r.get_u16()? as usize;
                    let data = r.get_bytes(len)?.to_vec();
                    records.push(Record::Command { command, data });
                }
                other => return Err(LoadError::new(LoadErrorKind::UnknownSectionType(other), at)),
            }
        }
        if r.remaining() > 0 {
            return Err(r.error(LoadErrorKind::TrailingGarbage { len: r.remaining() }));
        }
        Ok(QemuStream {
            records,
            vmdesc: vmdesc.map(|(_, d)| d),
        })
    }

    /// Write the stream back: the same bytes it was read from.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.put_u32(QEMU_VM_FILE_MAGIC);
        w.put_u32(QEMU_VM_FILE_VERSION);
        for record in &self.records {
            match record {
                Record::Configuration(c) => {
                    w.put_u8(QEMU_VM_CONFIGURATION);
                    match &c.decoded {
                        Some(d) => encode_struct(&mut w, d),
                        None => {
                            w.put_u32(c.machine.len() as u32);
                            w.put_bytes(c.machine.as_bytes());
                        }
                    }
                }
                Record::Section(s) => {
                    w.put_u8(s.kind);
                    w.put_u32(s.section_id);
                    if let Some(h) = &s.header {
                        w.put_name(&h.idstr);
                        w.put_u32(h.instance_id);
                        w.put_u32(h.version_id);
                    }
                    match &s.body {
                        Body::Ram(entries) => entries.iter().for_each(|e| write_ram(&mut w, e)),
                        Body::Device(d) => encode_struct(&mut w, d),
                    }
                }
                Record::Footer { section_id } => {
                    w.put_u8(QEMU_VM_SECTION_FOOTER);
                    w.put_u32(*section_id);
                }
                Record::Command { command, data } => {
                    w.put_u8(QEMU_VM_COMMAND);
                    w.put_u16(*command);
                    w.put_u16(data.len() as u16);
                    w.put_bytes(data);
                }
            }
        }
        w.put_u8(QEMU_VM_EOF);
        if let Some(v) = &self.vmdesc {
            w.put_u8(QEMU_VM_VMDESCRIPTION);
            w.put_u32(v.raw.len() as u32);
            w.put_bytes(&v.raw);
        }
        w.into_bytes()
    }

    /// The machine type of the configuration section, if there is one.
    pub fn machine(&self) -> Option<&str> {
        self.records.iter().find_map(|r| match r {
            Record::Configuration(c) => Some(c.machine.as_str()),
            _ => None,
        })
    }

    /// The device section with this idstr and instance.
    pub fn device(&self, idstr: &str, instance_id: u32) -> Option<&Decoded> {
        self.records.iter().find_map(|r| match r {
            Record::Section(SectionRecord {
                header: Some(h),
                body: Body::Device(d),
                ..
            }) if h.idstr == idstr && h.instance_id == instance_id => Some(d),
            _ => None,
        })
    }

    /// Load the section `idstr`/`instance_id` of `bytes` (the stream this
    /// document was read from) into `state`, transactionally: `state`
    /// changes only if the whole section loads and its footer follows.
    pub fn load_device(
        &self,
        bytes: &[u8],
        idstr: &str,
        instance_id: u32,
        state: &mut dyn Migratable,
    ) -> Result<(), LoadError> {
        let (section_id, header, offset) = self
            .records
            .iter()
            .find_map(|r| match r {
                Record::Section(SectionRecord {
                    section_id,
                    header: Some(h),
                    offset,
                    body: Body::Device(_),
                    ..
                }) if h.idstr == idstr && h.instance_id == instance_id => {
                    Some((*section_id, h, *offset))
                }
                _ => None,
            })
            .ok_or_else(|| {
                LoadError::new(
                    LoadErrorKind::MissingSection {
                        idstr: idstr.to_owned(),
                        instance_id,
                    },
                    0,
                )
            })?;
        let sref = SectionRef {
            idstr: header.idstr.clone(),
            instance_id,
            version_id: header.version_id,
        };
        let mut r = StreamReader::new(bytes);
        r.skip(offset)?;
        let copy = state
            .load_copy(&mut r, header.version_id)
            .map_err(|e| e.in_section(&sref))?;
        read_footer(&mut r, section_id, idstr).map_err(|e| e.in_section(&sref))?;
        state.commit(copy);
        Ok(())
    }

    /// The section headers, in stream order: section id and header.
    pub fn sections(&self) -> impl Iterator<Item = (u32, &SectionHeader, &Body)> {
        self.records.iter().filter_map(|r| match r {
            Record::Section(SectionRecord {
                section_id,
                header: Some(h),
                body,
                ..
            }) => Some((*section_id, h, body)),
            _ => None,
        })
    }

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

fn read_ram(r: &mut StreamReader<'_>, page_size: u64) -> Result<Vec<RamEntry>, LoadError> {
    let mut entries = Vec::new();
    loop {
        let at = r.offset();
        let header = r.get_u64()?;
        let flags = header & (page_size - 1);
        let addr = header & !(page_size - 1);
        if flags & !RAM_KNOWN_FLAGS != 0 {
            let kind = if flags & RAM_SAVE_FLAG_XBZRLE != 0 {
                "XBZRLE RAM compression".to_owned()
            } else if flags & RAM_SAVE_FLAG_HOOK != 0 {
                "RAM hooks".to_owned()
            } else {
                format!("RAM flags 0x{flags:x}")
            };
            return Err(LoadError::new(LoadErrorKind::Unsupported(kind), at));
        }
        let mut entry = RamEntry {
            header,
            blocks: Vec::new(),
            block: None,
            fill: None,
            page: None,
        };
        if flags & RAM_SAVE_FLAG_MEM_SIZE != 0 {
            let mut total = addr;
            while total > 0 {
                let name = r.get_name()?.to_owned();
                let len = r.get_u64()?;
                total = total.checked_sub(len).ok_or_else(|| {
                    r.error(LoadErrorKind::Unsupported(
                        "RAM block lengths that exceed the announced total".into(),
                    ))
                })?;
                if len == 0 {
                    return Err(r.error(LoadErrorKind::Unsupported("an empty RAM block".into())));
                }
                entry.blocks.push((name, len));
            }
        }
        if flags & (RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_PAGE) != 0 {
            if flags & RAM_SAVE_FLAG_CONTINUE == 0 {
                entry.block = Some(r.get_name()?.to_owned());
            }
            if flags & RAM_SAVE_FLAG_ZERO != 0 {
                entry.fill = Some(r.get_u8()?);
            } else {
                entry.page = Some(r.get_bytes(page_size as usize)?.to_vec());
            }
        }
        entries.push(entry);
        if flags & RAM_SAVE_FLAG_EOS != 0 {
            return Ok(entries);
        }
    }
}

fn write_ram(w: &mut StreamWriter, e: &RamEntry) {
    w.put_u64(e.header);
    for (name, len) in &e.blocks {
        w.put_name(name);
        w.put_u64(*len);
    }
    if let Some(name) = &e.block {
        w.put_name(name);
    }
    if let Some(fill) = e.fill {
        w.put_u8(fill);
    }
    if let Some(page) = &e.page {
        w.put_bytes(page);
    }
}

fn decode_struct(
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

fn encode_struct(w: &mut StreamWriter, d: &Decoded) {
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

    #[test]
    fn a_stream_without_trailer_still_reads_when_it_has_no_devices() {
        let mut w = StreamWriter::new();
        w.put_u32(QEMU_VM_FILE_MAGIC);
        w.put_u32(3);
        w.put_u8(QEMU_VM_CONFIGURATION);
        w.put_u32(2);
        w.put_bytes(b"pc");
        w.put_u8(QEMU_VM_EOF);
        let bytes = w.into_bytes();
        let s = QemuStream::parse(&bytes).unwrap();
        assert_eq!(s.machine(), Some("pc"));
        assert_eq!(s.to_bytes(), bytes);
    }
}
