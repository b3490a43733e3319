//! Errors of loading a stream: each names the section (idstr and
//! instance), the field path, the byte offset, and the versions involved.

use std::fmt;

use crate::text::escape::escaped as esc;

/// The section an error happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRef {
    /// The section's idstr (`0000:00:03.0/pcie-root-port`).
    pub idstr: String,
    /// Its instance id.
    pub instance_id: u32,
    /// The version the stream gave it.
    pub version_id: u32,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The stream ends before a value it must hold.
    Truncated {
        /// Bytes the value needs.
        wanted: usize,
        /// Bytes left.
        available: usize,
    },
    /// The incoming version is newer than ours.
    TooNew {
        /// The description (`pcie-root-port`).
        vmsd: String,
        /// The incoming version.
        incoming: u32,
        /// Ours.
        ours: u32,
    },
    /// The incoming version is below our minimum.
    TooOld {
        /// The description.
        vmsd: String,
        /// The incoming version.
        incoming: u32,
        /// Our minimum.
        minimum: u32,
    },
    /// A subsection the destination does not know.
    UnknownSubsection {
        /// The subsection's name.
        name: String,
        /// The description it was found in.
        parent: String,
    },
    /// A section no destination device claims.
    UnknownSection {
        /// Its idstr.
        idstr: String,
        /// Its instance id.
        instance_id: u32,
    },
    /// A destination device the stream has no section for.
    MissingSection {
        /// The device's idstr.
        idstr: String,
        /// Its instance id.
        instance_id: u32,
    },
    /// The same section twice.
    DuplicateSection {
        /// Its idstr.
        idstr: String,
        /// Its instance id.
        instance_id: u32,
    },
    /// A must-match field differs from the destination's own value.
    MustMatch {
        /// The incoming value.
        incoming: String,
        /// The destination's value.
        ours: String,
    },
    /// A must-match byte buffer differs (QEMU's "Bad config data").
    BadConfigData {
        /// Index of the first differing byte.
        index: usize,
        /// The incoming byte.
        read: u8,
        /// The destination's byte.
        device: u8,
        /// The bits compared.
        mask: u8,
    },
    /// A length field exceeds the field's declared maximum.
    LengthTooLarge {
        /// The length read.
        len: u64,
        /// The declared maximum.
        max: usize,
    },
    /// More elements than the load's budget allows (see
    /// `StreamReader::charge`).
    TooManyElements {
        /// Elements asked for when the budget ran out.
        wanted: usize,
    },
    /// Not `QEVM`.
    BadMagic(u32),
    /// Not stream version 3.
    BadVersion(u32),
    /// The configuration section names another machine type.
    MachineMismatch {
        /// The name in the stream.
        received: String,
        /// Ours.
        local: String,
    },
    /// A configuration section after the first: a stream describes one
    /// machine.
    SecondConfiguration {
        /// The machine type the second one names.
        machine: String,
    },
    /// The destination requires a configuration section.
    ConfigurationMissing {
        /// The section type found instead.
        found: u8,
    },
    /// No section footer where one must be.
    MissingFooter {
        /// The section's idstr.
        idstr: String,
    },
    /// A footer with another section's id.
    MismatchedFooter {
        /// The id read.
        read: u32,
        /// The id expected.
        expected: u32,
    },
    /// A section type byte QEMU does not define.
    UnknownSectionType(u8),
    /// A list or map marker that is neither "an element follows" (0x01)
    /// nor, where one may end, "the end" (0x00).
    BadMarker {
        /// What was expected.
        expected: &'static str,
        /// The byte found.
        found: u8,
    },
    /// An empty slot of an array of nullable elements where the stream has
    /// no null marker: the two sides disagree on which slots are empty.
    NullMarker {
        /// The byte found instead of the marker.
        found: u8,
    },
    /// Bytes after the end of the stream.
    TrailingGarbage {
        /// How many.
        len: usize,
    },
    /// A name in the stream is not UTF-8.
    InvalidName,
    /// The vmdesc trailer is not JSON of QEMU's layout.
    BadVmdesc(String),
    /// The destination refused the source's configuration before reading
    /// any device state: every difference, with the option that would make
    /// it accept.
    Preflight {
        /// The differences.
        differences: Vec<String>,
    },
    /// A device's load hook refused the state.
    Hook {
        /// `pre_load` or `post_load`.
        hook: &'static str,
        /// Its message.
        message: String,
    },
    /// A section of a kind this reader does not decode.
    Unsupported(String),
}

impl fmt::Display for LoadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LoadErrorKind::*;
        match self {
            Truncated { wanted, available } => write!(
                f,
                "the stream is truncated: {wanted} bytes wanted, {available} left"
            ),
            TooNew {
                vmsd,
                incoming,
                ours,
            } => write!(
                f,
                "{vmsd}: incoming version_id {incoming} is too new for local version_id {ours}"
            ),
            TooOld {
                vmsd,
                incoming,
                minimum,
            } => write!(
                f,
                "{vmsd}: incoming version_id {incoming} is too old for local minimum version_id {minimum}"
            ),
            UnknownSubsection { name, parent } => write!(
                f,
                "VM subsection '{}' in '{}' does not exist",
                esc(name),
                esc(parent)
            ),
            UnknownSection { idstr, instance_id } => write!(
                f,
                "Unknown savevm section or instance '{}' {instance_id}. Make sure that your \
                 current VM setup matches your saved VM setup, including any hotplugged devices",
                esc(idstr)
            ),
            MissingSection { idstr, instance_id } => write!(
                f,
                "no section for device '{}' instance {instance_id}: the source did not send its state",
                esc(idstr)
            ),
            DuplicateSection { idstr, instance_id } => write!(
                f,
                "section '{}' instance {instance_id} appears twice",
                esc(idstr)
            ),
            MustMatch { incoming, ours } => write!(
                f,
                "must match the destination's value: incoming {incoming}, destination {ours}"
            ),
            BadConfigData {
                index,
                read,
                device,
                mask,
            } => write!(
                f,
                "Bad config data: i=0x{index:x} read: {read:x} device: {device:x} cmask: {mask:x}"
            ),
            BadMarker { expected, found } => {
                write!(f, "expected {expected}, found 0x{found:02x}")
            }
            NullMarker { found } => write!(
                f,
                "the destination's slot is empty, so the null marker 0x30 was expected; \
                 found 0x{found:02x} (the two sides disagree on which elements exist)"
            ),
            LengthTooLarge { len, max } => {
                write!(f, "length {len} exceeds the declared maximum {max}")
            }
            TooManyElements { wanted } => write!(
                f,
                "{wanted} more elements exceed what is left of this load's element budget \
                 (by default one element per byte of the stream, plus 65536)"
            ),
            BadMagic(m) => write!(f, "Not a migration stream, magic: {m:x} != 5145564d"),
            BadVersion(2) => write!(f, "SaveVM v2 format is obsolete and no longer supported"),
            BadVersion(v) => write!(
                f,
                "Unsupported migration stream version, file version {v:x} != 3"
            ),
            MachineMismatch { received, local } => write!(
                f,
                "Machine type received is '{}' and local is '{}'",
                esc(received),
                esc(local)
            ),
            SecondConfiguration { machine } => write!(
                f,
                "a second configuration section (machine type '{}'): a stream describes one machine",
                esc(machine)
            ),
            ConfigurationMissing { found } => {
                write!(f, "Configuration section missing, {found:x} != 7")
            }
            MissingFooter { idstr } => write!(f, "Missing section footer for {}", esc(idstr)),
            MismatchedFooter { read, expected } => write!(
                f,
                "Mismatched section id in footer - read 0x{read:x} expected 0x{expected:x}"
            ),
            UnknownSectionType(t) => write!(f, "Unknown section type {t}"),
            TrailingGarbage { len } => {
                write!(f, "{len} bytes of trailing garbage after the end of the stream")
            }
            InvalidName => write!(f, "a name in the stream is not valid UTF-8"),
            BadVmdesc(why) => write!(f, "bad vmdesc trailer: {why}"),
            Hook { hook, message } => write!(f, "{hook} hook failed: {message}"),
            Preflight { differences } => write!(
                f,
                "the destination refuses the incoming configuration before any device state \
                 ({} difference{}): {}",
                differences.len(),
                if differences.len() == 1 { "" } else { "s" },
                differences.join("; ")
            ),
            Unsupported(what) => write!(f, "unsupported: {what}"),
        }
    }
}

/// A failed load, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadError {
    /// What went wrong.
    pub kind: LoadErrorKind,
    /// Byte offset in the stream.
    pub offset: usize,
    /// Field path, outermost first (`parent_obj`, `config`).
    pub path: Vec<String>,
    /// The section, when the error is inside one.
    pub section: Option<SectionRef>,
}

impl LoadError {
    /// An error at `offset`, outside any field or section so far.
    pub fn new(kind: LoadErrorKind, offset: usize) -> Self {
        LoadError {
            kind,
            offset,
            path: Vec::new(),
            section: None,
        }
    }

    /// The error, inside field `name` (called as it propagates outwards).
    pub fn in_field(mut self, name: &str) -> Self {
        self.path.insert(0, name.to_owned());
        self
    }

    /// The error, inside `section` (unless already placed in one).
    pub fn in_section(mut self, section: &SectionRef) -> Self {
        if self.section.is_none() {
            self.section = Some(section.clone());
        }
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.section {
            write!(
                f,
                "error while loading state for instance 0x{:x} of device '{}' (stream version {}): ",
                s.instance_id,
                esc(&s.idstr),
                s.version_id
            )?;
        }
        if !self.path.is_empty() {
            write!(f, "field '{}': ", esc(&self.path.join(".")))?;
        }
        write!(f, "{} (at offset 0x{:x})", self.kind, self.offset)
    }
}

impl std::error::Error for LoadError {}

/// A failed save: a device's `pre_save` hook refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pre-save failed: {vmsd}: {message}")]
#[non_exhaustive]
pub struct SaveError {
    /// The description whose hook failed.
    pub vmsd: String,
    /// Its message.
    pub message: String,
}
