//! Migration between releases: saving and loading a resolved machine's
//! devices through the stream, migrating from one release to another or
//! along a chain of them, the static checker that predicts a migration
//! without running it, and QEMU's `-dump-vmstate`.

pub mod check;
pub mod dump;
pub mod dump_check;
pub mod incoming;
pub mod lock;
pub mod preflight;
mod property_diff;
pub mod verify;

use crate::codec::{LoadError, SaveError};
use crate::release::{Release, UnknownRelease};
use crate::resolve::{Machine, MachineConfig, ResolveError};
use crate::stream::{self, LoadReport, Section, StreamOptions};

/// What loading the modelled part of a whole stream did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelledLoad {
    /// The sections loaded into this machine's devices, `idstr (instance)`.
    pub loaded: Vec<String>,
    /// The sections of parts the release does not model (RAM, timers, the
    /// chipset, CPUs), skipped, `idstr (instance)`.
    pub skipped: Vec<String>,
    /// The subsections those skipped sections carry, as the stream's
    /// trailer lists them, `idstr (instance): subsection`: what a real
    /// destination of this release's version would have to know, and this
    /// load cannot check (QEMU 10.0's i8259 sends `ltim` when a guest set
    /// it; 7.2's `-dump-vmstate` has no such subsection).
    pub skipped_subsections: Vec<String>,
}

/// The names of the subsections `layout` carries, and of theirs, and of
/// those of its nested structs, in the order they are written.
fn subsection_names(layout: &crate::vmstate::Layout, out: &mut Vec<String>) {
    for f in &layout.fields {
        if let Some(inner) = &f.nested {
            subsection_names(inner, out);
        }
    }
    for sub in &layout.subsections {
        out.push(sub.name.to_string());
        subsection_names(sub, out);
    }
}

impl Machine<'_> {
    /// Load a whole stream real QEMU wrote, of which this release models
    /// only some devices: the machine type must match, every device that
    /// migrates here must find its section, and those sections load all or
    /// nothing; a device's section of a VMState the release models that no
    /// device here claims is refused, as QEMU refuses it (the source had a
    /// device this command line lacks); every other section (RAM, timers,
    /// CPUs, the chipset) is skipped and counted, never silently. The stream is read through its
    /// description trailer, which QEMU writes, to find where each section
    /// ends.
    pub fn load_modelled(&mut self, bytes: &[u8]) -> Result<ModelledLoad, LoadError> {
        let stream = crate::stream::qemu::QemuStream::parse(bytes)?;
        if let Some(received) = stream.machine() {
            if received != self.machine_type.name {
                return Err(LoadError::new(
                    crate::codec::LoadErrorKind::MachineMismatch {
                        received: received.to_owned(),
                        local: self.machine_type.name.clone(),
                    },
                    0,
                ));
            }
        }
        let ids: Vec<crate::resolve::SectionId> = self
            .devices
            .iter()
            .filter_map(|d| d.section.clone())
            .collect();
        let mut targets: Vec<(&str, u32, &mut dyn crate::vmstate::Migratable)> = Vec::new();
        let states = self
            .devices
            .iter_mut()
            .filter(|d| d.section.is_some())
            .filter_map(|d| d.object.migratable());
        for (id, state) in ids.iter().zip(states) {
            targets.push((id.idstr.as_str(), id.instance_id, state));
        }
        let ours = |idstr: &str, instance: u32| {
            ids.iter()
                .any(|id| id.idstr == idstr && id.instance_id == instance)
        };
        // A section of a VMState this release models, that no device of
        // this machine claims: a device the source had and the command line
        // here did not declare. QEMU refuses it; so does this, rather than
        // skip it as a part the release does not model.
        let modelled: std::collections::HashSet<&str> = self
            .release
            .registry()
            .types()
            .filter_map(|t| t.vmstate.map(|v| v.name))
            .collect();
        let undeclared = stream.records.iter().find_map(|r| match r {
            crate::stream::qemu::Record::Section(crate::stream::qemu::SectionRecord {
                header: Some(h),
                body: crate::stream::qemu::Body::Device(_),
                offset,
                ..
            }) => {
                let vmsd = h.idstr.rsplit('/').next().unwrap_or(&h.idstr);
                (h.idstr.contains('/') && modelled.contains(vmsd) && !ours(&h.idstr, h.instance_id))
                    .then_some((h, *offset))
            }
            _ => None,
        });
        if let Some((h, offset)) = undeclared {
            return Err(LoadError::new(
                crate::codec::LoadErrorKind::UnknownSection {
                    idstr: h.idstr.clone(),
                    instance_id: h.instance_id,
                },
                offset,
            ));
        }
        stream.load_devices(bytes, &mut targets)?;
        let named = |idstr: &str, instance: u32| format!("{idstr} ({instance})");
        let (mut loaded, mut skipped) = (Vec::new(), Vec::new());
        for (_, h, _) in stream.sections() {
            match ours(&h.idstr, h.instance_id) {
                true => loaded.push(named(&h.idstr, h.instance_id)),
                false => skipped.push(named(&h.idstr, h.instance_id)),
            }
        }
        let mut skipped_subsections = Vec::new();
        for (h, layout) in stream.sent_layouts() {
            if ours(&h.idstr, h.instance_id) {
                continue;
            }
            let mut names = Vec::new();
            subsection_names(&layout, &mut names);
            for name in names {
                skipped_subsections.push(format!("{}: {name}", named(&h.idstr, h.instance_id)));
            }
        }
        Ok(ModelledLoad {
            loaded,
            skipped,
            skipped_subsections,
        })
    }

    /// How this machine's streams look: what its machine type's
    /// [`StreamFormat`](crate::stream::StreamFormat) says.
    pub fn stream_options(&self) -> StreamOptions {
        StreamOptions::for_format(self.machine_type.stream_format, &self.machine_type.name)
    }

    /// The sections of the devices that migrate, in creation order, named
    /// as QEMU names them (`0000:00:03.0/pcie-root-port`).
    fn sections(&mut self) -> Vec<Section<'_>> {
        self.devices
            .iter_mut()
            .filter_map(|d| {
                let crate::resolve::DeviceInstance {
                    section, object, ..
                } = d;
                let id = section.as_ref()?;
                object.migratable().map(|state| Section {
                    idstr: std::borrow::Cow::Borrowed(id.idstr.as_str()),
                    instance_id: id.instance_id,
                    state,
                })
            })
            .collect()
    }

    /// Save every migrating device into a stream.
    pub fn save(&mut self) -> Result<Vec<u8>, SaveError> {
        let opts = self.stream_options();
        stream::save(&mut self.sections(), &opts)
    }

    /// Save every migrating device into `out`, replacing what it held and
    /// reusing its memory ([`stream::save_into`]).
    pub fn save_into(&mut self, out: &mut Vec<u8>) -> Result<(), SaveError> {
        let opts = self.stream_options();
        stream::save_into(&mut self.sections(), &opts, out)
    }

    /// Save as a guest in its busiest state would: every subsection a
    /// property gate allows, as if every `needed` test held
    /// ([`StreamOptions::every_subsection`]).
    pub fn save_every_subsection(&mut self) -> Result<Vec<u8>, SaveError> {
        let opts = StreamOptions {
            every_subsection: true,
            ..self.stream_options()
        };
        stream::save(&mut self.sections(), &opts)
    }

    /// Save as [`Machine::save`] does, with a pre-flight section first:
    /// how this machine is configured, for the destination to check before
    /// any device state ([`preflight`]).
    pub fn save_with_preflight(&mut self) -> Result<Vec<u8>, SaveError> {
        let opts = StreamOptions {
            preflight: Some(preflight::Preflight::of(self).to_json()),
            ..self.stream_options()
        };
        stream::save(&mut self.sections(), &opts)
    }

    /// Load a stream into the devices, transactionally: on any error no
    /// device has changed. A stream that carries a pre-flight is refused,
    /// before any device state is read, when the source is configured
    /// otherwise than this machine ([`preflight::check`]).
    pub fn load(&mut self, bytes: &[u8]) -> Result<LoadReport, LoadError> {
        let opts = self.stream_options();
        if !stream::has_preflight(bytes) {
            return stream::load(bytes, &mut self.sections(), &opts);
        }
        let mine = preflight::Preflight::of(self);
        let vmsds = preflight::descriptions(self);
        let mut check = |json: &[u8]| {
            let incoming = preflight::Preflight::from_json(json).map_err(|e| {
                crate::codec::LoadErrorKind::Preflight {
                    differences: vec![e.to_string()],
                }
            })?;
            let differences = preflight::compare(&incoming, &mine, &vmsds);
            if differences.is_empty() {
                Ok(())
            } else {
                Err(crate::codec::LoadErrorKind::Preflight {
                    differences: differences.iter().map(ToString::to_string).collect(),
                })
            }
        };
        stream::load_checked(bytes, &mut self.sections(), &opts, &mut check)
    }
}

/// Why a migration did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The source could not start.
    #[error("the source does not start: {0}")]
    Source(Box<ResolveError>),
    /// The source could not save.
    #[error("the source cannot save: {0}")]
    Save(SaveError),
    /// The destination could not start (for instance, it does not know the
    /// machine type).
    #[error("the destination refuses: {0}")]
    Destination(Box<ResolveError>),
    /// The destination could not load the stream.
    #[error("{0}")]
    Load(Box<LoadError>),
    /// A hop names a release that is not there.
    #[error(transparent)]
    UnknownRelease(UnknownRelease),
}

impl MigrationError {
    /// Whether the destination refused because it does not know the
    /// machine type.
    pub fn is_unknown_machine(&self) -> bool {
        matches!(self, MigrationError::Destination(e) if matches!(**e, ResolveError::Machine(_)))
    }

    /// The load error, if the destination started and the load failed.
    pub fn load_error(&self) -> Option<&LoadError> {
        match self {
            MigrationError::Load(e) => Some(e),
            _ => None,
        }
    }
}

/// Start `src` with `src_config` and save, then start `dst` with
/// `dst_config` and load what the source saved.
pub fn migrate(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
) -> Result<(), MigrationError> {
    migrate_chain(&[(src, src_config.clone()), (dst, dst_config.clone())])
        .map_err(|(_, error)| error)
}

/// [`migrate`] with a pre-flight: the source sends its configuration first
/// ([`Machine::save_with_preflight`]), and a destination configured
/// otherwise refuses before any device state, naming every difference.
pub fn migrate_with_preflight(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
) -> Result<(), MigrationError> {
    migrate_saving(src, src_config, dst, dst_config, |m| {
        m.save_with_preflight()
    })
}

/// [`migrate`] from a source whose guest is in its busiest state: it sends
/// every subsection a property gate allows
/// ([`Machine::save_every_subsection`]). Where [`migrate`] works and this
/// fails, the migration breaks only once run-time state needs a subsection.
pub fn migrate_every_subsection(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
) -> Result<(), MigrationError> {
    migrate_saving(src, src_config, dst, dst_config, |m| {
        m.save_every_subsection()
    })
}

/// One hop whose source saves with `save`.
fn migrate_saving(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
    save: fn(&mut Machine<'_>) -> Result<Vec<u8>, SaveError>,
) -> Result<(), MigrationError> {
    let mut machine = src
        .instantiate_config(src_config)
        .map_err(|e| MigrationError::Source(Box::new(e)))?;
    let bytes = save(&mut machine).map_err(MigrationError::Save)?;
    let mut next = dst
        .instantiate_config(dst_config)
        .map_err(|e| MigrationError::Destination(Box::new(e)))?;
    next.load(&bytes)
        .map(|_| ())
        .map_err(|e| MigrationError::Load(Box::new(e)))
}

/// Migrate through several hops: each destination loads the stream, then
/// saves its own for the next one (A → B → C). On failure, the index of the
/// hop that failed and why.
pub fn migrate_chain(hops: &[(&Release, MachineConfig)]) -> Result<(), (usize, MigrationError)> {
    let Some((first, config)) = hops.first() else {
        return Ok(());
    };
    let mut machine = first
        .instantiate_config(config)
        .map_err(|e| (0, MigrationError::Source(Box::new(e))))?;
    let mut bytes = machine.save().map_err(|e| (0, MigrationError::Save(e)))?;
    for (i, (release, config)) in hops.iter().enumerate().skip(1) {
        let mut next = release
            .instantiate_config(config)
            .map_err(|e| (i, MigrationError::Destination(Box::new(e))))?;
        next.load(&bytes)
            .map_err(|e| (i, MigrationError::Load(Box::new(e))))?;
        if i + 1 < hops.len() {
            bytes = next.save().map_err(|e| (i, MigrationError::Save(e)))?;
        }
    }
    Ok(())
}
