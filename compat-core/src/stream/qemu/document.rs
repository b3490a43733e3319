//! The document model of a whole stream: its records in order, the vmdesc
//! trailer, reading it and writing it back byte for byte.

use serde_json::Value;

use super::decode::{bad_vmdesc, decode_described, encode_struct, Decoded, FieldValue};
use super::ram::{read_ram, write_ram, RamEntry};

use crate::codec::*;
use crate::stream::{self, next_record, read_configuration, read_footer, read_header};
use crate::vmstate::Migratable;

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
            match next_record(&mut r)? {
                stream::Record::Eof => break,
                stream::Record::Configuration => {
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
                    records.push(Record::Configuration(Configuration { machine, decoded }));
                }
                stream::Record::Section {
                    kind,
                    section_id,
                    header: Some(sref),
                } => {
                    let offset = r.offset();
                    let body = if sref.idstr == "ram" && sref.instance_id == 0 {
                        if sref.version_id != 4 {
                            return Err(r.error(LoadErrorKind::Unsupported(format!(
                                "RAM section version {}",
                                sref.version_id
                            ))));
                        }
                        ram_ids.push(section_id);
                        Body::Ram(read_ram(&mut r, page_size)?)
                    } else {
                        let device = desc
                            .and_then(|d| d["devices"].as_array())
                            .and_then(|ds| {
                                ds.iter().find(|d| {
                                    d["name"] == sref.idstr.as_str()
                                        && d["instance_id"] == sref.instance_id
                                })
                            })
                            .ok_or_else(|| {
                                LoadError::new(
                                    LoadErrorKind::Unsupported(format!(
                                        "no description of section '{}' instance {} in the \
                                         vmdesc trailer, so its fields cannot be decoded",
                                        sref.idstr, sref.instance_id
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
