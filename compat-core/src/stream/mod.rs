//! QEMU's migration stream (`migration/savevm.c`), byte-exact and
//! big-endian: the `QEVM` header, the configuration section carrying the
//! machine type, one full section per device (section id, idstr, instance
//! id, version), subsections, section footers, EOF, and the vmdesc JSON
//! trailer.
//!
//! [`save`] writes the sections of a set of devices; [`load`] loads a
//! stream into them transactionally: every section is parsed and checked
//! into a copy of its device first, and the copies replace the devices only
//! when the whole stream is good.

pub mod qemu;

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::codec::*;
use crate::vmstate::{FieldLayout, Layout, Migratable};

/// One device's section: its idstr, instance id and state.
pub struct Section<'a> {
    /// QEMU's idstr (`0000:00:03.0/pcie-root-port`, or the VMSD name).
    pub idstr: String,
    /// The instance id.
    pub instance_id: u32,
    /// The state.
    pub state: &'a mut dyn Migratable,
}

/// How a stream is written (and, for footers, read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// The machine type for the configuration section; `None` writes none
    /// (Xen's `xen-save-devices-state` device-only streams).
    pub machine: Option<String>,
    /// Section footers (QEMU's `send-section-footer`, on by default).
    pub footers: bool,
    /// The vmdesc trailer (off under QEMU's `suppress-vmdesc`).
    pub vmdesc: bool,
    /// Send every subsection a property gate allows, as if every `needed`
    /// test held (off by default): the stream a guest in its busiest state
    /// sends, to test a destination against run-time state. Such a stream
    /// has no vmdesc trailer.
    pub every_subsection: bool,
    /// On load, the most elements (of arrays, lists and maps) the stream
    /// may make a load decode; `None` for one per byte of the stream plus
    /// 65,536 ([`default_budget`]).
    pub element_budget: Option<usize>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            machine: None,
            footers: true,
            vmdesc: true,
            every_subsection: false,
            element_budget: None,
        }
    }
}

impl StreamOptions {
    /// Options for a stream of machine `machine`, with footers and vmdesc.
    pub fn for_machine(machine: impl Into<String>) -> Self {
        StreamOptions {
            machine: Some(machine.into()),
            ..Self::default()
        }
    }

    /// The options of machine type `machine`, whose streams have `format`.
    pub fn for_format(format: StreamFormat, machine: &str) -> Self {
        match format {
            StreamFormat::Migration => StreamOptions::for_machine(machine),
            StreamFormat::DeviceState => StreamOptions {
                machine: None,
                footers: false,
                vmdesc: false,
                ..StreamOptions::default()
            },
        }
    }
}

/// What a machine type's migration streams look like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamFormat {
    /// QEMU's migration stream: a configuration section naming the machine
    /// type, section footers, the vmdesc trailer.
    #[default]
    Migration,
    /// Device state only, as Xen's `xen-save-devices-state` writes it
    /// (QEMU's `qemu_save_device_state`, with the Xen accelerator's compat
    /// properties `send-configuration=off`, `send-section-footer=off`): no
    /// configuration section, no footers, no vmdesc trailer.
    DeviceState,
}

/// The vmdesc trailer of a stream of `sections`, serialized as QEMU
/// writes it: the configuration section's description (as QEMU 10 has it),
/// the page size, and each device's name, instance and layout.
struct Trailer<'s, 'a> {
    machine: Option<&'s str>,
    sections: &'s [Section<'a>],
}

/// The configuration section's description.
struct ConfigurationDesc<'s>(&'s str);

/// The devices of a trailer, each layout taken as it is written.
struct DeviceDescs<'s, 'a>(&'s [Section<'a>]);

/// One device of a trailer.
struct DeviceDesc<'s, 'a>(&'s Section<'a>);

impl Serialize for Trailer<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        if let Some(machine) = self.machine {
            m.serialize_entry("configuration", &ConfigurationDesc(machine))?;
        }
        m.serialize_entry("page_size", &4096)?;
        m.serialize_entry("devices", &DeviceDescs(self.sections))?;
        m.end()
    }
}

impl Serialize for ConfigurationDesc<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut layout = Layout::new("configuration", 1);
        layout.fields = vec![
            FieldLayout::value("len", "uint32", 4),
            FieldLayout::value("name", "buffer", self.0.len()),
        ];
        layout.serialize(serializer)
    }
}

impl Serialize for DeviceDescs<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(DeviceDesc))
    }
}

impl Serialize for DeviceDesc<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("name", &self.0.idstr)?;
        m.serialize_entry("instance_id", &self.0.instance_id)?;
        self.0.state.state_layout().serialize_entries(&mut m)?;
        m.end()
    }
}

/// Write a stream of `sections`, in order, with section ids from 0.
pub fn save(sections: &mut [Section<'_>], opts: &StreamOptions) -> Result<Vec<u8>, SaveError> {
    let mut w = if opts.every_subsection {
        StreamWriter::sending_every_subsection()
    } else {
        StreamWriter::new()
    };
    w.put_u32(QEMU_VM_FILE_MAGIC);
    w.put_u32(QEMU_VM_FILE_VERSION);
    if let Some(machine) = &opts.machine {
        w.put_u8(QEMU_VM_CONFIGURATION);
        w.put_u32(machine.len() as u32);
        w.put_bytes(machine.as_bytes());
    }
    for (id, s) in sections.iter_mut().enumerate() {
        let id = id as u32;
        let desc = s.state.vmstate_description();
        w.put_u8(QEMU_VM_SECTION_FULL);
        w.put_u32(id);
        w.put_name(&s.idstr);
        w.put_u32(s.instance_id);
        w.put_u32(desc.version_id);
        s.state.save(&mut w)?;
        if opts.footers {
            w.put_u8(QEMU_VM_SECTION_FOOTER);
            w.put_u32(id);
        }
    }
    w.put_u8(QEMU_VM_EOF);
    // The trailer describes what a value's own `needed` tests send; a
    // stream that sends every subsection would contradict it, so it has
    // none (as under QEMU's `suppress-vmdesc`).
    if opts.vmdesc && !opts.every_subsection {
        let trailer = Trailer {
            machine: opts.machine.as_deref(),
            sections,
        };
        w.put_u8(QEMU_VM_VMDESCRIPTION);
        w.put_sized(|buf| write_qemu_json(buf, &trailer));
    }
    Ok(w.into_bytes())
}

/// What a successful load saw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadReport {
    /// The machine type the configuration section named, if there was one.
    pub machine: Option<String>,
    /// Sections loaded.
    pub sections: usize,
    /// Whether the stream ended with a vmdesc trailer.
    pub vmdesc: bool,
}

/// Load `bytes` into `sections`, transactionally. With `opts.machine` set,
/// the stream must start with a configuration section naming that machine
/// type. Every destination section must be in the stream, and nothing may
/// follow its end. On any error no section's state has changed.
pub fn load(
    bytes: &[u8],
    sections: &mut [Section<'_>],
    opts: &StreamOptions,
) -> Result<LoadReport, LoadError> {
    let budget = opts
        .element_budget
        .unwrap_or_else(|| default_budget(bytes.len()));
    let mut r = StreamReader::with_budget(bytes, budget);
    read_header(&mut r)?;
    let mut received_machine = None;
    if let Some(local) = &opts.machine {
        let found = r.peek_u8().unwrap_or(QEMU_VM_EOF);
        if found != QEMU_VM_CONFIGURATION {
            return Err(r.error(LoadErrorKind::ConfigurationMissing { found }));
        }
        r.get_u8()?;
        let received = read_configuration(&mut r)?;
        if &received != local {
            return Err(r.error(LoadErrorKind::MachineMismatch {
                received,
                local: local.clone(),
            }));
        }
        received_machine = Some(received);
    }

    // Sections are found by their (idstr, instance) through one index built
    // here, so a stream of many sections loads in linear time.
    let index: HashMap<(&str, u32), usize> = sections
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.idstr.as_str(), s.instance_id), i))
        .collect();
    let mut loaded: Vec<Option<Box<dyn Migratable>>> = (0..sections.len()).map(|_| None).collect();
    loop {
        let at = r.offset();
        // Records a device load cannot take are refused on their type
        // byte, before their payload is read.
        if let Some(kind @ (QEMU_VM_SECTION_PART | QEMU_VM_SECTION_END | QEMU_VM_SECTION_FOOTER)) =
            r.peek_u8()
        {
            return Err(not_for_devices(kind, at));
        }
        match next_record(&mut r)? {
            Record::Eof => break,
            Record::Configuration => {
                let machine = read_configuration(&mut r)?;
                if received_machine.is_some() {
                    return Err(LoadError::new(
                        LoadErrorKind::SecondConfiguration { machine },
                        at,
                    ));
                }
                received_machine = Some(machine);
            }
            Record::Section {
                section_id,
                header: Some(sref),
                ..
            } => {
                let instance_id = sref.instance_id;
                let Some(&index) = index.get(&(sref.idstr.as_str(), instance_id)) else {
                    return Err(LoadError::new(
                        LoadErrorKind::UnknownSection {
                            idstr: sref.idstr,
                            instance_id,
                        },
                        at,
                    ));
                };
                if loaded[index].is_some() {
                    return Err(LoadError::new(
                        LoadErrorKind::DuplicateSection {
                            idstr: sref.idstr,
                            instance_id,
                        },
                        at,
                    ));
                }
                let copy = sections[index]
                    .state
                    .load_copy(&mut r, sref.version_id)
                    .map_err(|e| e.in_section(&sref))?;
                if opts.footers {
                    read_footer(&mut r, section_id, &sref.idstr)
                        .map_err(|e| e.in_section(&sref))?;
                }
                loaded[index] = Some(copy);
            }
            Record::Section {
                kind, header: None, ..
            } => return Err(not_for_devices(kind, at)),
            Record::Footer { .. } => return Err(not_for_devices(QEMU_VM_SECTION_FOOTER, at)),
            Record::Command { .. } => {}
        }
    }
    let vmdesc = read_trailer(&mut r)?.is_some();

    if let Some(missing) = loaded.iter().position(Option::is_none) {
        return Err(r.error(LoadErrorKind::MissingSection {
            idstr: sections[missing].idstr.clone(),
            instance_id: sections[missing].instance_id,
        }));
    }
    let count = loaded.len();
    for (section, copy) in sections.iter_mut().zip(loaded) {
        section.state.commit(copy.expect("every section loaded"));
    }
    Ok(LoadReport {
        machine: received_machine,
        sections: count,
        vmdesc,
    })
}

/// Why a record of `kind` at `at` cannot load into devices: RAM parts are
/// for `stream::qemu`, and a footer where a record starts belongs to no
/// section.
fn not_for_devices(kind: u8, at: usize) -> LoadError {
    let why = if kind == QEMU_VM_SECTION_FOOTER {
        LoadErrorKind::UnknownSectionType(kind)
    } else {
        LoadErrorKind::Unsupported(
            "iterative sections (RAM) do not load into devices; \
             use stream::qemu to read whole QEMU streams"
                .into(),
        )
    };
    LoadError::new(why, at)
}

/// One record of a stream as the section loop meets it: its kind and
/// header, the body left to the caller (a device's state, RAM, or the
/// configuration's machine name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record<'a> {
    /// The end of the sections.
    Eof,
    /// A configuration section; its body follows.
    Configuration,
    /// A section or part of one: `QEMU_VM_SECTION_*`, its id, and for FULL
    /// and START records its idstr, instance and version.
    Section {
        kind: u8,
        section_id: u32,
        header: Option<SectionRef>,
    },
    /// A section footer.
    Footer { section_id: u32 },
    /// A command and its data.
    Command { command: u16, data: &'a [u8] },
}

/// The next record's kind and header: the one section loop under both the
/// transactional loader and the reader of whole QEMU streams.
pub(crate) fn next_record<'a>(r: &mut StreamReader<'a>) -> Result<Record<'a>, LoadError> {
    let at = r.offset();
    Ok(match r.get_u8()? {
        QEMU_VM_EOF => Record::Eof,
        QEMU_VM_CONFIGURATION => Record::Configuration,
        kind @ (QEMU_VM_SECTION_FULL | QEMU_VM_SECTION_START) => Record::Section {
            kind,
            section_id: r.get_u32()?,
            header: Some(SectionRef {
                idstr: r.get_name()?.to_owned(),
                instance_id: r.get_u32()?,
                version_id: r.get_u32()?,
            }),
        },
        kind @ (QEMU_VM_SECTION_PART | QEMU_VM_SECTION_END) => Record::Section {
            kind,
            section_id: r.get_u32()?,
            header: None,
        },
        QEMU_VM_SECTION_FOOTER => Record::Footer {
            section_id: r.get_u32()?,
        },
        QEMU_VM_COMMAND => {
            let command = r.get_u16()?;
            let len = r.get_u16()? as usize;
            Record::Command {
                command,
                data: r.get_bytes(len)?,
            }
        }
        other => return Err(LoadError::new(LoadErrorKind::UnknownSectionType(other), at)),
    })
}

/// Magic and version.
pub(crate) fn read_header(r: &mut StreamReader<'_>) -> Result<(), LoadError> {
    let magic = r.get_u32()?;
    if magic != QEMU_VM_FILE_MAGIC {
        return Err(LoadError::new(LoadErrorKind::BadMagic(magic), 0));
    }
    let version = r.get_u32()?;
    if version != QEMU_VM_FILE_VERSION {
        return Err(LoadError::new(LoadErrorKind::BadVersion(version), 4));
    }
    Ok(())
}

/// The body of a configuration section: the machine type name.
pub(crate) fn read_configuration(r: &mut StreamReader<'_>) -> Result<String, LoadError> {
    let len = r.get_u32()? as usize;
    let at = r.offset();
    let name = r.get_bytes(len)?;
    String::from_utf8(name.to_vec()).map_err(|_| LoadError::new(LoadErrorKind::InvalidName, at))
}

/// A section footer for `section_id`.
pub(crate) fn read_footer(
    r: &mut StreamReader<'_>,
    section_id: u32,
    idstr: &str,
) -> Result<(), LoadError> {
    let at = r.offset();
    if r.peek_u8() != Some(QEMU_VM_SECTION_FOOTER) {
        return Err(LoadError::new(
            LoadErrorKind::MissingFooter {
                idstr: idstr.to_owned(),
            },
            at,
        ));
    }
    r.get_u8()?;
    let read = r.get_u32()?;
    if read != section_id {
        return Err(LoadError::new(
            LoadErrorKind::MismatchedFooter {
                read,
                expected: section_id,
            },
            at,
        ));
    }
    Ok(())
}

/// After EOF: an optional vmdesc trailer, then nothing.
pub(crate) fn read_trailer<'a>(r: &mut StreamReader<'a>) -> Result<Option<&'a [u8]>, LoadError> {
    let mut json = None;
    if r.peek_u8() == Some(QEMU_VM_VMDESCRIPTION) {
        r.get_u8()?;
        let len = r.get_u32()? as usize;
        json = Some(r.get_bytes(len)?);
    }
    if r.remaining() > 0 {
        return Err(r.error(LoadErrorKind::TrailingGarbage { len: r.remaining() }));
    }
    Ok(json)
}
