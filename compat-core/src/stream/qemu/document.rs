//! The document model of a whole stream: its records in order, the vmdesc
//! trailer, reading it and writing it back byte for byte.

use std::collections::{HashMap, HashSet};

use crate::text::escape::escaped;
use serde_json::Value;

use super::decode::{bad_vmdesc, decode_described, encode_struct, Decoded, FieldValue};
use super::ram::{read_ram, write_ram, RamEntry};

use crate::codec::*;
use crate::stream::{self, next_record, read_configuration, read_footer, read_header};
use crate::vmstate::{Layout, Migratable};

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
    /// Byte offset just past its data (where its footer starts).
    pub end: usize,
    /// The section's data.
    pub body: Body,
}

/// The header of a START or FULL record: idstr, instance and version.
pub type SectionHeader = SectionRef;

/// A section's data.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// RAM entries, up to and including the end-of-section marker.
    Ram(Vec<RamEntry>),
    /// A device's fields, decoded through the vmdesc.
    Device(Decoded),
}

/// The trailer's device descriptions by section name and instance (the
/// first of a name and instance describes the section), so that many
/// sections find theirs in linear time. `end` is where the trailer starts,
/// which a trailer not of QEMU's shape is blamed on.
fn described_devices(desc: &Value, end: usize) -> Result<HashMap<(&str, u64), &Value>, LoadError> {
    let devices = desc["devices"]
        .as_array()
        .ok_or_else(|| bad_vmdesc("the trailer has no \"devices\" list", end))?;
    let mut described = HashMap::new();
    for (i, d) in devices.iter().enumerate() {
        let (Some(name), Some(instance)) = (d["name"].as_str(), d["instance_id"].as_u64()) else {
            return Err(bad_vmdesc(
                format!("device {i} of the trailer has no name or instance_id"),
                end,
            ));
        };
        described.entry((name, instance)).or_insert(d);
    }
    Ok(described)
}

/// Where the vmdesc trailer starts (its 0x06 marker), found as QEMU
/// writes it: after the EOF marker that ends the sections, a 0x06 marker
/// and a be32 length that runs exactly to the end of the stream. The
/// sections before it are then read up to that marker, and must end there.
/// Bytes inside the stream (a RAM page) that merely look like a trailer do
/// not run to the end, so they are not taken for one.
fn trailer_start(bytes: &[u8]) -> Option<usize> {
    // The JSON of a real trailer holds no 0x06 byte (JSON escapes control
    // characters), so the last candidate is the one.
    (1..bytes.len().saturating_sub(4)).rev().find(|&t| {
        bytes[t] == QEMU_VM_VMDESCRIPTION
            && bytes[t - 1] == QEMU_VM_EOF
            && u32::from_be_bytes(bytes[t + 1..t + 5].try_into().expect("4 bytes")) as usize
                == bytes.len() - t - 5
    })
}

/// For a stream without a trailer that runs to its end: the end of a
/// trailer followed by more bytes, if there is one — after an EOF marker, a
/// 0x06 marker and a be32 length of JSON that parses.
fn trailer_followed_by_bytes(bytes: &[u8]) -> Option<usize> {
    // Only the last candidate in the last 64 MiB is parsed, so that a
    // crafted stream cannot make this search quadratic.
    let from = bytes.len().saturating_sub(64 << 20).max(6);
    let p = (from..bytes.len()).rev().find(|&p| {
        bytes[p] == b'{'
            && bytes[p - 5] == QEMU_VM_VMDESCRIPTION
            && bytes[p - 6] == QEMU_VM_EOF
            && (u32::from_be_bytes(bytes[p - 4..p].try_into().expect("4 bytes")) as usize)
                < bytes.len() - p
    })?;
    let len = u32::from_be_bytes(bytes[p - 4..p].try_into().expect("4 bytes")) as usize;
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes[p..p + len])
        .ok()
        .map(|_| p + len)
}

impl QemuStream {
    /// Read a whole stream, decoding at most as many elements as it has
    /// bytes, plus 65,536.
    pub fn parse(bytes: &[u8]) -> Result<QemuStream, LoadError> {
        Self::parse_with_budget(bytes, default_budget(bytes.len()))
    }

    /// Read a whole stream, decoding at most `budget` elements (array
    /// elements and structs, including those of no bytes on the wire).
    pub fn parse_with_budget(bytes: &[u8], budget: usize) -> Result<QemuStream, LoadError> {
        let Some(t) = trailer_start(bytes) else {
            // No trailer: the stream must read whole without one. If it
            // does not, and a trailer followed by more bytes is why, say so.
            return Self::parse_sections(bytes, None, budget).map_err(|e| {
                match trailer_followed_by_bytes(bytes) {
                    Some(end) => LoadError::new(
                        LoadErrorKind::TrailingGarbage {
                            len: bytes.len() - end,
                        },
                        end,
                    ),
                    None => e,
                }
            });
        };
        let raw = &bytes[t + 5..];
        match serde_json::from_slice::<Value>(raw) {
            Ok(json) => {
                let vmdesc = Vmdesc {
                    raw: raw.to_vec(),
                    json,
                };
                Self::parse_sections(&bytes[..t], Some(vmdesc), budget)
            }
            // What ends like a trailer but is not JSON is a malformed
            // trailer, unless the stream reads whole without one.
            Err(e) => Self::parse_sections(bytes, None, budget).map_err(|_| {
                bad_vmdesc(
                    format!("the trailer at offset 0x{t:x} is not JSON: {e}"),
                    t + 5,
                )
            }),
        }
    }

    /// The records of `bytes`, a stream up to its trailer, decoded through
    /// `vmdesc`.
    fn parse_sections(
        bytes: &[u8],
        vmdesc: Option<Vmdesc>,
        budget: usize,
    ) -> Result<QemuStream, LoadError> {
        let end = bytes.len();
        let desc = vmdesc.as_ref().map(|d| &d.json);
        let page_size = desc.and_then(|d| d["page_size"].as_u64()).unwrap_or(4096);
        if !page_size.is_power_of_two() || page_size > 1 << 30 {
            return Err(bad_vmdesc(
                format!("page_size {page_size} is not a power of two"),
                end,
            ));
        }

        // Each section's description is found through one index of the
        // trailer's devices, so many sections parse in linear time.
        // A trailer not of QEMU's shape is blamed on the trailer (at `end`,
        // where it starts), not on the section that needed it.
        let described = match desc {
            Some(desc) => described_devices(desc, end)?,
            None => HashMap::new(),
        };
        let mut r = StreamReader::with_budget(bytes, budget);
        read_header(&mut r)?;
        let mut records = Vec::new();
        let mut ram_ids: HashSet<u32> = HashSet::new();
        let mut configured = false;
        loop {
            let at = r.offset();
            match next_record(&mut r)? {
                stream::Record::Eof => break,
                stream::Record::Configuration => {
                    if configured {
                        let machine = read_configuration(&mut r).unwrap_or_default();
                        return Err(LoadError::new(
                            LoadErrorKind::SecondConfiguration { machine },
                            at,
                        ));
                    }
                    let decoded = match desc.map(|d| &d["configuration"]) {
                        Some(c) if c.is_object() => Some(decode_described(&mut r, c)?),
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
                    configured = true;
                    records.push(Record::Configuration(Configuration { machine, decoded }));
                }
                stream::Record::Section {
                    kind,
                    section_id,
                    header: Some(h),
                } => {
                    let sref = h.to_ref()?;
                    let offset = r.offset();
                    let body = if sref.idstr == "ram" && sref.instance_id == 0 {
                        if sref.version_id != 4 {
                            return Err(r.error(LoadErrorKind::Unsupported(format!(
                                "RAM section version {}",
                                sref.version_id
                            ))));
                        }
                        ram_ids.insert(section_id);
                        Body::Ram(read_ram(&mut r, page_size)?)
                    } else {
                        let key = (sref.idstr.as_str(), u64::from(sref.instance_id));
                        let device = *described.get(&key).ok_or_else(|| {
                            LoadError::new(
                                LoadErrorKind::Unsupported(format!(
                                    "no description of section '{}' instance {} in the \
                                     vmdesc trailer, so its fields cannot be decoded",
                                    escaped(&sref.idstr),
                                    sref.instance_id
                                )),
                                at,
                            )
                        })?;
                        Body::Device(
                            decode_described(&mut r, device).map_err(|e| e.in_section(&sref))?,
                        )
                    };
                    records.push(Record::Section(SectionRecord {
                        kind,
                        section_id,
                        header: Some(sref),
                        offset,
                        end: r.offset(),
                        body,
                    }));
                }
                stream::Record::Section {
                    kind,
                    section_id,
                    header: None,
                } => {
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
                        end: r.offset(),
                        body,
                    }));
                }
                stream::Record::Footer { section_id } => {
                    records.push(Record::Footer { section_id })
                }
                stream::Record::Command { command, data } => records.push(Record::Command {
                    command,
                    data: data.to_vec(),
                }),
            }
        }
        if r.remaining() > 0 {
            return Err(r.error(LoadErrorKind::TrailingGarbage { len: r.remaining() }));
        }
        Ok(QemuStream { records, vmdesc })
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
        self.load_devices(bytes, &mut [(idstr, instance_id, state)])
    }

    /// Load the device sections `targets` names (idstr, instance) into
    /// their states, all or nothing: every section is read into a copy
    /// first, and the states change only if all of them load.
    pub fn load_devices(
        &self,
        bytes: &[u8],
        targets: &mut [(&str, u32, &mut dyn Migratable)],
    ) -> Result<(), LoadError> {
        let mut copies = Vec::with_capacity(targets.len());
        for (idstr, instance_id, state) in targets.iter() {
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
                    }) if h.idstr == *idstr && h.instance_id == *instance_id => {
                        Some((*section_id, h, *offset))
                    }
                    _ => None,
                })
                .ok_or_else(|| {
                    LoadError::new(
                        LoadErrorKind::MissingSection {
                            idstr: (*idstr).to_owned(),
                            instance_id: *instance_id,
                        },
                        0,
                    )
                })?;
            let sref = SectionRef {
                idstr: header.idstr.clone(),
                instance_id: *instance_id,
                version_id: header.version_id,
            };
            let mut r = StreamReader::new(bytes);
            r.skip(offset)?;
            let copy = state
                .load_copy(&mut r, header.version_id)
                .map_err(|e| e.in_section(&sref))?;
            read_footer(&mut r, section_id, idstr).map_err(|e| e.in_section(&sref))?;
            copies.push(copy);
        }
        for ((_, _, state), copy) in targets.iter_mut().zip(copies) {
            state.commit(copy);
        }
        Ok(())
    }

    /// The data of section `idstr`/`instance_id` of `bytes` (the stream
    /// this document was read from): its fields' bytes, without header or
    /// footer.
    pub fn section_data<'b>(
        &self,
        bytes: &'b [u8],
        idstr: &str,
        instance_id: u32,
    ) -> Option<&'b [u8]> {
        self.records.iter().find_map(|r| match r {
            Record::Section(SectionRecord {
                header: Some(h),
                offset,
                end,
                ..
            }) if h.idstr == idstr && h.instance_id == instance_id => bytes.get(*offset..*end),
            _ => None,
        })
    }

    /// What the vmdesc trailer says each device section sent, in stream
    /// order: the section's header and its layout. A stream read without a
    /// trailer has none; every device section of a stream read with one
    /// was decoded through it, so each has its layout.
    pub fn sent_layouts(&self) -> Vec<(&SectionHeader, Layout)> {
        // The trailer was read this way when the stream was parsed.
        let described = match &self.vmdesc {
            Some(v) => described_devices(&v.json, 0).unwrap_or_default(),
            None => HashMap::new(),
        };
        self.sections()
            .filter(|(_, _, body)| matches!(body, Body::Device(_)))
            .filter_map(|(_, h, _)| {
                let desc = described.get(&(h.idstr.as_str(), u64::from(h.instance_id)))?;
                Some((h, Layout::from_json(desc).ok()?))
            })
            .collect()
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
