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

use std::borrow::Cow;
use std::collections::HashMap;

use crate::codec::*;
use crate::vmstate::{Backups, FieldLayout, Layout, Migratable, TypeSlots};

/// One device's section: its idstr, instance id and state.
pub struct Section<'a> {
    /// QEMU's idstr (`0000:00:03.0/pcie-root-port`, or the VMSD name),
    /// borrowed from the device when it can be: a save allocates none.
    pub idstr: Cow<'a, str>,
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
    /// The pre-flight to send before any device section (its JSON), if
    /// any: a section [`PREFLIGHT_IDSTR`] the destination checks before it
    /// reads device state.
    pub preflight: Option<String>,
}

/// The idstr of the pre-flight section: how a source is configured, sent
/// before any device state so that the destination can refuse at once.
pub const PREFLIGHT_IDSTR: &str = "compat-preflight";

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            machine: None,
            footers: true,
            vmdesc: true,
            every_subsection: false,
            element_budget: None,
            preflight: None,
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

/// The description of a section that is a be32 length and a buffer of
/// `len` bytes called `buffer`: the configuration section (as QEMU 10 puts
/// it in vmdesc) and the pre-flight section.
fn length_and_buffer(vmsd: &'static str, buffer: &'static str, len: usize) -> Layout {
    let mut layout = Layout::new(vmsd, 1);
    layout.fields = vec![
        FieldLayout::value("len", "uint32", 4),
        FieldLayout::value(buffer, "buffer", len),
    ];
    layout
}

/// What a save knows of each type whose layout is fixed
/// ([`Migratable::fixed_layout`]): the bytes a value writes and its
/// description's text, each found once.
#[derive(Default)]
struct FixedLayouts(TypeSlots<(usize, Vec<u8>)>);

impl FixedLayouts {
    /// The entry of `state`'s type, if its layout is fixed.
    fn of(&mut self, state: &dyn Migratable) -> Option<(usize, &[u8])> {
        if !state.fixed_layout() {
            return None;
        }
        let (size, text) = self.0.get_or_insert_with(state.as_any().type_id(), || {
            let layout = state.state_layout();
            let mut text = Vec::new();
            write_qemu_json(&mut text, &layout);
            (layout.written_size(), text)
        });
        Some((*size, text))
    }
}

/// Append `layout`'s JSON object without its opening brace: its keys
/// continue an object the caller has opened (a device's name and instance
/// come first in a trailer).
fn continue_object(out: &mut Vec<u8>, layout: &Layout) {
    let at = out.len();
    write_qemu_json(out, layout);
    out.remove(at);
}

/// Write the header of a FULL section.
fn put_section_header(w: &mut StreamWriter, id: u32, idstr: &str, instance_id: u32, version: u32) {
    w.put_u8(QEMU_VM_SECTION_FULL);
    w.put_u32(id);
    w.put_name(idstr);
    w.put_u32(instance_id);
    w.put_u32(version);
}

/// Write the footer of section `id`, if the stream has footers.
fn put_section_footer(w: &mut StreamWriter, id: u32, opts: &StreamOptions) {
    if opts.footers {
        w.put_u8(QEMU_VM_SECTION_FOOTER);
        w.put_u32(id);
    }
}

/// Append the vmdesc trailer's JSON for `sections` to `out`, as QEMU writes
/// it: the configuration section's description, the page size, and each
/// device's name, instance and layout; a fixed layout's text is copied
/// from `fixed`.
fn write_trailer(
    out: &mut Vec<u8>,
    machine: Option<&str>,
    preflight: Option<usize>,
    sections: &[Section<'_>],
    fixed: &mut FixedLayouts,
) {
    out.push(b'{');
    if let Some(machine) = machine {
        out.extend_from_slice(b"\"configuration\": ");
        write_qemu_json(
            out,
            &length_and_buffer("configuration", "name", machine.len()),
        );
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(b"\"page_size\": 4096, \"devices\": [");
    // The pre-flight section is described as a length and a buffer, so
    // that readers of the trailer decode it as any section.
    if let Some(len) = preflight {
        out.extend_from_slice(b"{\"name\": ");
        write_qemu_json(out, PREFLIGHT_IDSTR);
        out.extend_from_slice(b", \"instance_id\": 0, ");
        continue_object(
            out,
            &length_and_buffer(PREFLIGHT_IDSTR, "configuration", len),
        );
        if !sections.is_empty() {
            out.extend_from_slice(b", ");
        }
    }
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(b"{\"name\": ");
        write_qemu_json(out, &*s.idstr);
        out.extend_from_slice(b", \"instance_id\": ");
        write_qemu_json(out, &s.instance_id);
        out.extend_from_slice(b", ");
        // The layout's own object, its opening brace dropped: its keys
        // continue the device's.
        match fixed.of(&*s.state) {
            Some((_, text)) => out.extend_from_slice(&text[1..]),
            None => continue_object(out, &s.state.state_layout()),
        }
    }
    out.extend_from_slice(b"]}");
}

/// Write a stream of `sections`, in order, with section ids from 0.
pub fn save(sections: &mut [Section<'_>], opts: &StreamOptions) -> Result<Vec<u8>, SaveError> {
    let mut out = Vec::new();
    save_into(sections, opts, &mut out)?;
    Ok(out)
}

/// Write a stream of `sections` into `out`, replacing what it held: a
/// buffer kept from the last save is reused, its memory already there
/// (for a large machine, growing a new buffer is most of the time).
pub fn save_into(
    sections: &mut [Section<'_>],
    opts: &StreamOptions,
    out: &mut Vec<u8>,
) -> Result<(), SaveError> {
    let mut buf = std::mem::take(out);
    buf.clear();
    let mut w = StreamWriter::with_buffer(buf, opts.every_subsection);
    let result = write_stream(&mut w, sections, opts);
    *out = w.into_bytes();
    result
}

fn write_stream(
    w: &mut StreamWriter,
    sections: &mut [Section<'_>],
    opts: &StreamOptions,
) -> Result<(), SaveError> {
    // The stream's size, as far as fixed layouts tell it, is reserved
    // first: a large machine's buffer then does not grow by doubling.
    let vmdesc = opts.vmdesc && !opts.every_subsection;
    let mut fixed = FixedLayouts::default();
    let estimate = sections.iter().fold(64, |total: usize, s| {
        let (size, text) = fixed.of(&*s.state).unwrap_or((0, &[]));
        let described = if vmdesc { text.len() + 48 } else { 0 };
        total + 32 + s.idstr.len() * (1 + usize::from(vmdesc)) + size + described
    });
    w.reserve(estimate);
    w.put_u32(QEMU_VM_FILE_MAGIC);
    w.put_u32(QEMU_VM_FILE_VERSION);
    if let Some(machine) = &opts.machine {
        w.put_u8(QEMU_VM_CONFIGURATION);
        w.put_u32(machine.len() as u32);
        w.put_bytes(machine.as_bytes());
    }
    if let Some(json) = &opts.preflight {
        // Its id follows the devices': theirs stay what they were.
        let id = sections.len() as u32;
        put_section_header(w, id, PREFLIGHT_IDSTR, 0, 1);
        w.put_u32(json.len() as u32);
        w.put_bytes(json.as_bytes());
        put_section_footer(w, id, opts);
    }
    for (id, s) in sections.iter_mut().enumerate() {
        let id = id as u32;
        let version = s.state.vmstate_description().version_id;
        put_section_header(w, id, &s.idstr, s.instance_id, version);
        s.state.save(w)?;
        put_section_footer(w, id, opts);
    }
    w.put_u8(QEMU_VM_EOF);
    // The trailer describes what a value's own `needed` tests send; a
    // stream that sends every subsection would contradict it, so it has
    // none (as under QEMU's `suppress-vmdesc`).
    if vmdesc {
        w.put_u8(QEMU_VM_VMDESCRIPTION);
        let preflight = opts.preflight.as_ref().map(String::len);
        w.put_sized(|buf| {
            write_trailer(
                buf,
                opts.machine.as_deref(),
                preflight,
                sections,
                &mut fixed,
            )
        });
    }
    Ok(())
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
/// follow its end. On any error no section's state has changed. A
/// pre-flight section is skipped ([`load_checked`] checks it).
pub fn load(
    bytes: &[u8],
    sections: &mut [Section<'_>],
    opts: &StreamOptions,
) -> Result<LoadReport, LoadError> {
    load_checked(bytes, sections, opts, &mut |_| Ok(()))
}

/// [`load`], with `preflight` run on the JSON of a pre-flight section when
/// the stream has one: it comes before any device section, so a refusal
/// leaves every device as it was, no device state read.
pub fn load_checked(
    bytes: &[u8],
    sections: &mut [Section<'_>],
    opts: &StreamOptions,
    preflight: &mut dyn FnMut(&[u8]) -> Result<(), LoadErrorKind>,
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

    // First the whole stream is read: a section whose state checks in
    // place is checked, writing nothing; any other loads into its device
    // after a copy of the device is kept. If anything fails, every device
    // loaded so far gets its copy back. Then the checked sections load.
    let mut plan: Vec<Option<Planned>> = vec![None; sections.len()];
    let mut backups = Backups::default();
    let result = read_sections(
        &mut r,
        sections,
        &mut plan,
        &mut backups,
        opts,
        received_machine,
        preflight,
    );
    if result.is_err() {
        for (section, planned) in sections.iter_mut().zip(plan) {
            if let Some(Planned::Loaded { copy }) = planned {
                section.state.restore(&mut backups, copy);
            }
        }
        return result;
    }
    for (section, planned) in sections.iter_mut().zip(plan) {
        if let Some(Planned::Checked { body, version_id }) = planned {
            let mut r = StreamReader::with_budget(bytes, budget);
            r.skip(body)?;
            // The section has been checked: its load reads the same bytes
            // the same way, so it cannot fail.
            section.state.load(&mut r, version_id)?;
        }
    }
    result
}

/// What reading the stream did with one device's section.
#[derive(Debug, Clone, Copy)]
enum Planned {
    /// Loaded into the device; its state from before is copy `copy` of the
    /// backups.
    Loaded { copy: usize },
    /// Checked: the section's state starts at offset `body`, with stream
    /// version `version_id`; it loads once the whole stream has been read.
    Checked { body: usize, version_id: u32 },
}

/// The section loop of [`load`]: each section checked, or loaded into its
/// device with its state before kept in `backups`; `plan` says which.
fn read_sections(
    r: &mut StreamReader<'_>,
    sections: &mut [Section<'_>],
    plan: &mut [Option<Planned>],
    backups: &mut Backups,
    opts: &StreamOptions,
    mut received_machine: Option<String>,
    preflight: &mut dyn FnMut(&[u8]) -> Result<(), LoadErrorKind>,
) -> Result<LoadReport, LoadError> {
    // Sections normally arrive in the destination's order: each is looked
    // for where the last one was found, then after it; an index is built
    // only for a stream that comes in another order.
    let mut next = 0;
    let mut index: Option<HashMap<(String, u32), usize>> = None;
    // A pre-flight comes once, before any device section.
    let (mut preflight_seen, mut device_seen) = (false, false);
    loop {
        let at = r.offset();
        // Records a device load cannot take are refused on their type
        // byte, before their payload is read.
        if let Some(kind @ (QEMU_VM_SECTION_PART | QEMU_VM_SECTION_END | QEMU_VM_SECTION_FOOTER)) =
            r.peek_u8()
        {
            return Err(not_for_devices(kind, at));
        }
        match next_record(r)? {
            Record::Eof => break,
            Record::Configuration => {
                let machine = read_configuration(r)?;
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
                header: Some(h),
                ..
            } if is_preflight(&h) => {
                let misplaced = if preflight_seen {
                    Some("a second pre-flight section")
                } else if device_seen {
                    Some("the pre-flight section comes after device state")
                } else {
                    None
                };
                if let Some(why) = misplaced {
                    return Err(LoadError::new(
                        LoadErrorKind::Preflight {
                            differences: vec![why.into()],
                        },
                        at,
                    ));
                }
                preflight_seen = true;
                let body = read_preflight(r, section_id, h.version_id, opts.footers)?;
                preflight(body).map_err(|kind| LoadError::new(kind, at))?;
            }
            Record::Section {
                section_id,
                header: Some(h),
                ..
            } => {
                // Bytes are compared: a name equal to a destination's is
                // text; only one matching none is checked as such.
                let is = |s: &Section<'_>| {
                    s.idstr.as_bytes() == h.idstr && s.instance_id == h.instance_id
                };
                let found = match sections.get(next) {
                    Some(s) if is(s) => Some(next),
                    _ => index
                        .get_or_insert_with(|| {
                            sections
                                .iter()
                                .enumerate()
                                .map(|(i, s)| ((s.idstr.to_string(), s.instance_id), i))
                                .collect()
                        })
                        .get(&(h.text()?.to_owned(), h.instance_id))
                        .copied(),
                };
                let Some(i) = found else {
                    return Err(LoadError::new(
                        LoadErrorKind::UnknownSection {
                            idstr: h.text()?.to_owned(),
                            instance_id: h.instance_id,
                        },
                        at,
                    ));
                };
                device_seen = true;
                let in_section = |e: LoadError, idstr: &str| {
                    e.in_section(&SectionRef {
                        idstr: idstr.to_owned(),
                        instance_id: h.instance_id,
                        version_id: h.version_id,
                    })
                };
                if plan[i].is_some() {
                    return Err(LoadError::new(
                        LoadErrorKind::DuplicateSection {
                            idstr: sections[i].idstr.to_string(),
                            instance_id: h.instance_id,
                        },
                        at,
                    ));
                }
                let Section { idstr, state, .. } = &mut sections[i];
                plan[i] = Some(if state.checks_in_place() {
                    let body = r.offset();
                    state
                        .check(r, h.version_id)
                        .map_err(|e| in_section(e, idstr))?;
                    Planned::Checked {
                        body,
                        version_id: h.version_id,
                    }
                } else {
                    let copy = state
                        .load_in_place(r, h.version_id, backups)
                        .map_err(|e| in_section(e, idstr))?;
                    Planned::Loaded { copy }
                });
                if opts.footers {
                    read_footer(r, section_id, idstr).map_err(|e| in_section(e, idstr))?;
                }
                next = i + 1;
            }
            Record::Section {
                kind, header: None, ..
            } => return Err(not_for_devices(kind, at)),
            Record::Footer { .. } => return Err(not_for_devices(QEMU_VM_SECTION_FOOTER, at)),
            Record::Command { .. } => {}
        }
    }
    let vmdesc = read_trailer(r)?.is_some();

    if let Some(missing) = plan.iter().position(Option::is_none) {
        return Err(r.error(LoadErrorKind::MissingSection {
            idstr: sections[missing].idstr.to_string(),
            instance_id: sections[missing].instance_id,
        }));
    }
    Ok(LoadReport {
        machine: received_machine,
        sections: sections.len(),
        vmdesc,
    })
}

/// The body of a pre-flight section of version 1 — a be32 length and that
/// much JSON — and its footer.
fn read_preflight<'a>(
    r: &mut StreamReader<'a>,
    section_id: u32,
    version_id: u32,
    footers: bool,
) -> Result<&'a [u8], LoadError> {
    let sref = SectionRef {
        idstr: PREFLIGHT_IDSTR.into(),
        instance_id: 0,
        version_id,
    };
    if version_id != 1 {
        return Err(r
            .error(LoadErrorKind::TooNew {
                vmsd: PREFLIGHT_IDSTR.into(),
                incoming: version_id,
                ours: 1,
            })
            .in_section(&sref));
    }
    let body = (|| {
        let len = r.get_u32()? as usize;
        r.get_bytes(len)
    })()
    .map_err(|e| e.in_section(&sref))?;
    if footers {
        read_footer(r, section_id, PREFLIGHT_IDSTR).map_err(|e| e.in_section(&sref))?;
    }
    Ok(body)
}

/// Whether a section header is the pre-flight's.
fn is_preflight(h: &Header<'_>) -> bool {
    h.idstr == PREFLIGHT_IDSTR.as_bytes() && h.instance_id == 0
}

/// A reader at the body of the pre-flight section of `bytes`, with the
/// section's id and version, when the stream has one right after its header
/// and configuration section, as a source sends it.
fn preflight_section(bytes: &[u8]) -> Option<(StreamReader<'_>, u32, u32)> {
    let mut r = StreamReader::new(bytes);
    read_header(&mut r).ok()?;
    if r.peek_u8() == Some(QEMU_VM_CONFIGURATION) {
        r.get_u8().ok()?;
        read_configuration(&mut r).ok()?;
    }
    match next_record(&mut r).ok()? {
        Record::Section {
            section_id,
            header: Some(h),
            ..
        } if is_preflight(&h) => Some((r, section_id, h.version_id)),
        _ => None,
    }
}

/// Whether `bytes` is a stream that starts with a pre-flight section.
pub fn has_preflight(bytes: &[u8]) -> bool {
    preflight_section(bytes).is_some()
}

/// The JSON a stream's pre-flight section carries, when the stream starts
/// with one ([`has_preflight`]) and it reads whole; a load reports what is
/// wrong with one that does not.
pub fn preflight_of(bytes: &[u8]) -> Option<&[u8]> {
    let (mut r, section_id, version_id) = preflight_section(bytes)?;
    read_preflight(&mut r, section_id, version_id, false).ok()
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
        header: Option<Header<'a>>,
    },
    /// A section footer.
    Footer { section_id: u32 },
    /// A command and its data.
    Command { command: u16, data: &'a [u8] },
}

/// The header of a FULL or START record, borrowed from the stream; the
/// idstr as bytes, checked as text only when it is needed as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub idstr: &'a [u8],
    /// Where the idstr starts, for the error if it is not text.
    pub idstr_at: usize,
    pub instance_id: u32,
    pub version_id: u32,
}

impl<'a> Header<'a> {
    /// The idstr as text.
    pub fn text(&self) -> Result<&'a str, LoadError> {
        std::str::from_utf8(self.idstr)
            .map_err(|_| LoadError::new(LoadErrorKind::InvalidName, self.idstr_at))
    }

    /// The header, owned, as errors and documents keep it.
    pub fn to_ref(self) -> Result<SectionRef, LoadError> {
        Ok(SectionRef {
            idstr: self.text()?.to_owned(),
            instance_id: self.instance_id,
            version_id: self.version_id,
        })
    }
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
            header: Some(Header {
                idstr_at: r.offset() + 1,
                idstr: r.get_name_bytes()?,
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
