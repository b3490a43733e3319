//! Comparing two `-dump-vmstate` files — QEMU's, or a release's — or a
//! stream and a dump (`stream.rs`), as the destination would read what the
//! source writes: per device type, whether
//! the wire layouts agree, differ only by field names (renames), break
//! (the destination reads more or fewer bytes, or refuses a version), or
//! agree in size while fields land elsewhere (a silent misread, which
//! neither QEMU's loader nor its static checker notices).
//!
//! A dump is class-level and says less than a stream: a field with a test
//! (`field_exists`) may or may not be written, array lengths are missing
//! from older dumps, and compat properties never show. The rules used:
//! a tested field both sides have by name has the same condition; a field
//! `mig_X` kept for older streams (QEMU's naming) is written by no current
//! source and read from older streams only, and pairs with a plain `X` on
//! the other side; any other tested field one side alone has is uncertain,
//! and every combination of uncertain fields is tried — when the outcomes
//! differ, the verdict names the fields it depends on (typically a compat
//! property, which locks record).

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::text::escape::escaped as esc;
mod classify;
mod stream;
mod wire;

use classify::classify;
use wire::{collect_uncertain, flatten, Reading, Side};

use crate::vmstate::{StateRecord, VersionRefused};

pub use super::dump::{DumpError, DumpType, VmStateDump};
pub use stream::compare_stream;

/// What the destination makes of what the source writes, for one device
/// type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum DumpVerdict {
    /// The same wire layout under the same names.
    Identical,
    /// The same wire layout; fields renamed (`source` → `destination`).
    Renames {
        /// The renamed fields.
        renames: Vec<(String, String)>,
    },
    /// The destination refuses, or reads more or fewer bytes than the
    /// source writes.
    Breaks {
        /// Where the layouts diverge.
        at: String,
        /// How.
        reason: String,
    },
    /// As many bytes as written, but fields land in fields of other names
    /// both sides have: the load completes and the state is wrong.
    Misreads {
        /// `(written as, read as)` for each field that lands elsewhere.
        misread: Vec<(String, String)>,
    },
    /// The outcome depends on whether tested fields only one side has are
    /// on the wire — a condition the dumps do not show (usually a compat
    /// property of the machine type).
    Depends {
        /// The fields the outcome depends on.
        fields: Vec<String>,
        /// The outcome with them on the wire.
        with: Box<DumpVerdict>,
        /// The outcome without them.
        without: Box<DumpVerdict>,
        /// Whether every combination of them fails (breaks or misreads):
        /// then the migration fails whichever they are.
        every_way_fails: bool,
    },
    /// The dumps cannot tell: a field of unknown size faces a field of
    /// another name.
    Unknown {
        /// Where.
        at: String,
    },
}

impl DumpVerdict {
    /// Whether it predicts a failed or wrong migration for certain: a
    /// break, a misread, or an outcome that depends on fields the dumps do
    /// not show but fails with them and without.
    pub fn fails(&self) -> bool {
        match self {
            DumpVerdict::Breaks { .. } | DumpVerdict::Misreads { .. } => true,
            DumpVerdict::Depends {
                every_way_fails, ..
            } => *every_way_fails,
            DumpVerdict::Identical | DumpVerdict::Renames { .. } | DumpVerdict::Unknown { .. } => {
                false
            }
        }
    }
}

impl fmt::Display for DumpVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs = |v: &[(String, String)]| {
            v.iter()
                .map(|(a, b)| format!("{} -> {}", esc(a), esc(b)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            DumpVerdict::Identical => f.write_str("migrates: the same layout"),
            DumpVerdict::Renames { renames } => {
                write!(f, "migrates: renames only ({})", pairs(renames))
            }
            DumpVerdict::Breaks { at, reason } => write!(f, "BREAKS at {}: {reason}", esc(at)),
            DumpVerdict::Misreads { misread } => write!(
                f,
                "MISREADS silently: the same size, but fields land in others ({})",
                pairs(misread)
            ),
            DumpVerdict::Depends {
                fields,
                with,
                without,
                every_way_fails,
            } => write!(
                f,
                "{}depends on whether {} {} on the wire, which the dumps do not show \
                 (a compat property of the machine type, typically: compare locks): \
                 with it, {with}; without, {without}",
                if *every_way_fails {
                    "FAILS either way: the outcome "
                } else {
                    ""
                },
                fields
                    .iter()
                    .map(|x| esc(x).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if fields.len() == 1 { "is" } else { "are" }
            ),
            DumpVerdict::Unknown { at } => write!(
                f,
                "cannot tell at {}: a field of unknown size faces another field",
                esc(at)
            ),
        }
    }
}

/// One device type compared, in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceComparison {
    /// The type name.
    pub type_name: String,
    /// Its verdict.
    pub verdict: DumpVerdict,
    /// Subsections the source may send that the destination handles
    /// otherwise, each with what happens if sent.
    pub subsections: Vec<String>,
}

/// Two dumps compared in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpComparison {
    /// The source's machine type.
    pub source_machine: String,
    /// The destination's machine type.
    pub destination_machine: String,
    /// Device types both have, compared: those that are not identical.
    pub devices: Vec<DeviceComparison>,
    /// How many device types both have.
    pub compared: usize,
    /// Device types only the source has (its guests cannot start on the
    /// destination).
    pub only_source: Vec<String>,
    /// Device types only the destination has.
    pub only_destination: Vec<String>,
    /// For a stream: its sections no type of the destination's dump
    /// describes (a dump has device types only, not the CPU, timer or bus
    /// sections), so not compared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undescribed: Vec<String>,
}

impl DumpComparison {
    /// Whether some device type fails for certain (breaks or misreads), or
    /// the machine types differ (QEMU refuses that).
    pub fn fails(&self) -> bool {
        self.source_machine != self.destination_machine
            || self.devices.iter().any(|d| d.verdict.fails())
    }
}

/// What every comparison of dumps says about compat properties.
pub const INVISIBLE: &str = "compat properties are invisible in -dump-vmstate files (a dump is \
     the same for every machine type): a default a machine type's compat set keeps \
     (hw_compat_7_2's e1000e migrate-timadj, which gates core.timadj) shows only as a tested \
     field; compat's locks record them (compat lock, compat verify --against LOCK)";

impl fmt::Display for DumpComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} -> {}: {} device types in both",
            esc(&self.source_machine),
            esc(&self.destination_machine),
            self.compared
        )?;
        if self.source_machine != self.destination_machine {
            writeln!(
                f,
                "  FAILS: the machine types differ; the destination refuses the stream \
                 (\"Machine type received is '{}' and local is '{}'\")",
                esc(&self.source_machine),
                esc(&self.destination_machine)
            )?;
        }
        for d in &self.devices {
            writeln!(f, "  {}: {}", esc(&d.type_name), d.verdict)?;
            for s in &d.subsections {
                writeln!(f, "    {s}")?;
            }
        }
        if !self.only_source.is_empty() {
            writeln!(
                f,
                "  only in the source (a guest with one cannot start on the destination): {}",
                self.only_source
                    .iter()
                    .map(|x| esc(x).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        if !self.undescribed.is_empty() {
            writeln!(
                f,
                "  not compared, as the dump does not describe them: {}",
                self.undescribed
                    .iter()
                    .map(|x| esc(x).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        writeln!(f, "  note: {INVISIBLE}")
    }
}

/// Compare what `destination` makes of what `source` writes.
pub fn compare(source: &VmStateDump, destination: &VmStateDump) -> DumpComparison {
    let sources = Sources {
        lengths: (source.records_lengths(), destination.records_lengths()),
        sent: false,
    };
    let mut devices = Vec::new();
    let mut compared = 0;
    for (name, s) in &source.types {
        let Some(d) = destination.types.get(name) else {
            continue;
        };
        compared += 1;
        let verdict = section_verdict(&s.description, &d.description, sources);
        let subsections = subsection_notes(&s.description, &d.description, sources);
        if verdict != DumpVerdict::Identical || !subsections.is_empty() {
            devices.push(DeviceComparison {
                type_name: name.clone(),
                verdict,
                subsections,
            });
        }
    }
    let only = |a: &VmStateDump, b: &VmStateDump| {
        a.types
            .keys()
            .filter(|k| !b.types.contains_key(*k))
            .cloned()
            .collect::<Vec<_>>()
    };
    DumpComparison {
        source_machine: source.machine.clone(),
        destination_machine: destination.machine.clone(),
        devices,
        compared,
        only_source: only(source, destination),
        only_destination: only(destination, source),
        undescribed: Vec::new(),
    }
}

/// What a destination reading with `destination` makes of what a source
/// writing with `source` sends, both records as a `-dump-vmstate` tells
/// them (no wire types; `lengths` says whether each records array lengths):
/// the section's verdict, and a note for each subsection the source may
/// send that the destination refuses or reads otherwise.
pub fn compare_records(
    source: &StateRecord,
    destination: &StateRecord,
    lengths: (bool, bool),
) -> (DumpVerdict, Vec<String>) {
    let sources = Sources {
        lengths,
        sent: false,
    };
    (
        section_verdict(source, destination, sources),
        subsection_notes(source, destination, sources),
    )
}

/// What the two records being compared are.
#[derive(Debug, Clone, Copy)]
struct Sources {
    /// Whether each records array lengths (a dump before QEMU 8 does not).
    lengths: (bool, bool),
    /// Whether the source's lists what one stream sent (the fields kept
    /// for older streams among them), rather than what a type may send.
    sent: bool,
}

/// The verdict for a section (or subsection, which carries its version on
/// the wire too): versions first, then the fields under every combination
/// of uncertain fields.
fn section_verdict(s: &StateRecord, d: &StateRecord, sources: Sources) -> DumpVerdict {
    let lengths = sources.lengths;
    if let Some(refused) = d.refuses(s.version) {
        let reason = match refused {
            VersionRefused::TooNew => format!(
                "the source writes version {}, newer than the destination's {}: refused",
                s.version, d.version
            ),
            VersionRefused::TooOld => format!(
                "the source writes version {}, older than the destination loads ({}): refused",
                s.version,
                d.loads_from()
            ),
        };
        return DumpVerdict::Breaks {
            at: format!("{} version", s.name),
            reason,
        };
    }
    let mut uncertain = BTreeSet::new();
    collect_uncertain(s, d, Side::Writer, "", &mut uncertain);
    collect_uncertain(d, s, Side::Reader, "", &mut uncertain);
    let uncertain: Vec<String> = uncertain.into_iter().collect();
    let versions = (s.version, s.version);
    let outcome = |present: &BTreeSet<String>| {
        let mut src = Vec::new();
        let writer = Reading {
            side: Side::Writer,
            lengths: lengths.0,
            present,
            within: "",
            against_sent: false,
        };
        flatten(s, Some(d), writer, versions, "", &mut src);
        let mut dst = Vec::new();
        let reader = Reading {
            side: Side::Reader,
            lengths: lengths.1,
            present,
            within: "",
            against_sent: sources.sent,
        };
        flatten(d, Some(s), reader, versions, "", &mut dst);
        classify(&src, &dst)
    };
    // At most 2^8 combinations are tried; beyond, the uncertain fields
    // are taken as written.
    if uncertain.is_empty() || uncertain.len() > 8 {
        return outcome(&uncertain.iter().cloned().collect());
    }
    let all = outcome(&uncertain.iter().cloned().collect());
    let none = outcome(&BTreeSet::new());
    let mut same = true;
    let mut every_way_fails = all.fails() && none.fails();
    for mask in 1..(1u32 << uncertain.len()) - 1 {
        let present = uncertain
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, f)| f.clone())
            .collect();
        let one = outcome(&present);
        same &= kind(&one) == kind(&all);
        every_way_fails &= one.fails();
    }
    if same && kind(&all) == kind(&none) {
        all
    } else {
        DumpVerdict::Depends {
            fields: uncertain,
            with: Box::new(all),
            without: Box::new(none),
            every_way_fails,
        }
    }
}

/// The verdict's kind, to tell whether combinations agree.
fn kind(v: &DumpVerdict) -> u8 {
    match v {
        DumpVerdict::Identical | DumpVerdict::Renames { .. } => 0,
        DumpVerdict::Breaks { .. } => 1,
        DumpVerdict::Misreads { .. } => 2,
        DumpVerdict::Depends { .. } => 3,
        DumpVerdict::Unknown { .. } => 4,
    }
}

/// What happens with each subsection the source may send.
fn subsection_notes(s: &StateRecord, d: &StateRecord, sources: Sources) -> Vec<String> {
    let mut out = Vec::new();
    for sub in &s.subsections {
        match d.subsections.iter().find(|x| x.name == sub.name) {
            None => out.push(format!(
                "subsection {}: if the source sends it, the destination refuses it \
                 (it does not know it)",
                esc(&sub.name)
            )),
            Some(theirs) => {
                let v = section_verdict(sub, theirs, sources);
                if v != DumpVerdict::Identical {
                    out.push(format!("subsection {}: if sent, {v}", esc(&sub.name)));
                }
                out.extend(subsection_notes(sub, theirs, sources));
            }
        }
    }
    out
}
