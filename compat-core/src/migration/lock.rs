//! Locks: what one release promised, recorded so that the next release can
//! be checked against it once the old code is gone (a VMM ships one release
//! per binary). A lock holds, for every machine type the release knows,
//! every device type's resolved property values with the compat set that
//! set each, the must-match values a fresh device has, the stream format;
//! and, per device type, its properties and its full VMState description
//! (the vmstate layer's [`StateRecord`]).
//!
//! Locks are JSON through serde, in a stable order, with a schema version,
//! small enough to commit beside the code.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::device::DeviceTypeInfo;
use crate::property::cmdline::parse_device;
use crate::release::Release;
use crate::resolve::{MachineConfig, Source};
use crate::stream::StreamFormat;
use crate::vmstate::{Layout, MustMatchValue, StateRecord};

/// The schema this code writes and reads (2 added subsections' `needed`
/// function and `gate` property).
pub const SCHEMA: u32 = 2;

/// What one release promised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Lock {
    /// The lock schema's version ([`SCHEMA`]).
    pub schema: u32,
    /// The release's name.
    pub release: String,
    /// Its machine types, by family then version.
    pub machine_types: Vec<MachineLock>,
    /// Its device types, by name.
    pub device_types: Vec<DeviceTypeLock>,
    /// What the lock's source could not tell, and the lock therefore does
    /// not say (a lock read from a QEMU binary: what that binary does not
    /// answer). Empty for a release's own lock, and then not written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<Unknown>,
}

/// Something a lock does not say because its source could not tell it;
/// the tools that read the lock compare nothing they would have to guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Unknown {
    /// The compat properties each machine type declares (QEMU 5.2 and 7.2,
    /// for one, do not list them in `query-machines`).
    CompatProperties,
    /// How a release whose type lacked a property behaved, and which values
    /// behave alike (what a device type declares as `absent`, `alike`,
    /// `inert`; QEMU has no such declarations): a property new in a release
    /// is taken to keep the old behaviour at its default, as QEMU's rule is.
    Declarations,
    /// Each device's values per machine type (neither listed by QEMU nor
    /// read back from devices created on each machine type).
    DeviceValues,
    /// What a fresh device sends and its must-match values.
    FreshState,
    /// The machine types' class flags and on-board devices.
    MachineClass,
    /// The kinds and wire types of VMState fields (`-dump-vmstate` gives
    /// names, sizes and versions only).
    WireTypes,
}

impl Unknown {
    /// What it means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Unknown::CompatProperties => "the compat properties each machine type declares",
            Unknown::Declarations => {
                "how a release without a property behaved, and values that behave alike"
            }
            Unknown::DeviceValues => "each device's values per machine type",
            Unknown::FreshState => "what a fresh device sends and compares",
            Unknown::MachineClass => "the machine types' flags and on-board devices",
            Unknown::WireTypes => "the kinds and wire types of VMState fields",
        }
    }
}

/// One machine type as the release resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MachineLock {
    /// Its canonical name.
    pub name: String,
    /// Its family.
    pub family: String,
    /// Its version, if versioned.
    pub version: Option<String>,
    /// Its alias, if any.
    pub alias: Option<String>,
    /// Whether it is the default.
    pub default: bool,
    /// Why it is deprecated, if it is.
    pub deprecated: Option<String>,
    /// The compat sets its own step applies.
    pub own_compat_sets: Vec<String>,
    /// Every compat global, in application order.
    pub compat: Vec<GlobalLock>,
    /// Its class flags.
    pub flags: BTreeMap<String, bool>,
    /// `migration` or `device-state`.
    pub stream: String,
    /// The `-device` strings of its on-board devices.
    pub onboard: Vec<String>,
    /// Every instantiable device type, created on this machine type with
    /// no options of its own.
    pub devices: Vec<DeviceLock>,
}

impl MachineLock {
    /// Its version, parsed, for ordering (`4.0` < `4.0.1` < `4.1`); `None`
    /// for an unversioned machine type.
    pub fn parsed_version(&self) -> Option<crate::machine::Version> {
        self.version.as_deref()?.parse().ok()
    }
}

/// One compat global of a machine type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GlobalLock {
    /// The compat set.
    pub set: String,
    /// `{driver, property, value}`.
    pub driver: String,
    /// The property.
    pub property: String,
    /// The value, as text.
    pub value: String,
}

/// One device type created on a machine type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DeviceLock {
    /// The device type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Why it does not start with no options, if it does not (its other
    /// entries are then empty).
    pub error: Option<String>,
    /// Every property's value, inherited ones first.
    pub properties: Vec<PropertyLock>,
    /// The must-match values of a fresh device, as they go on the wire.
    pub must_match: Vec<MustMatchLock>,
    /// What a fresh device sends: the fields its `exists` tests keep and
    /// the subsections it needs, with their sizes (written in a lock
    /// without must-match values, which `must_match` holds).
    #[serde(with = "sent_json")]
    pub sends: Option<Layout>,
}

/// A lock's JSON encoding of what a fresh device sends: per struct its name,
/// version, fields (`name`, `type`, `size`, `count`, `nested`) and
/// subsections.
mod sent_json {
    use std::borrow::Cow;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::vmstate::{FieldLayout, Layout};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sent {
        name: String,
        version: u32,
        fields: Vec<SentField>,
        subsections: Vec<Sent>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SentField {
        name: String,
        #[serde(rename = "type")]
        info: String,
        size: usize,
        count: Option<usize>,
        nested: Option<Box<Sent>>,
    }

    impl From<&Layout> for Sent {
        fn from(l: &Layout) -> Sent {
            Sent {
                name: l.name.to_string(),
                version: l.version,
                fields: l
                    .fields
                    .iter()
                    .map(|f| SentField {
                        name: f.name.to_string(),
                        info: f.info.to_string(),
                        size: f.size,
                        count: f.array_len,
                        nested: f.nested.as_deref().map(|n| Box::new(Sent::from(n))),
                    })
                    .collect(),
                subsections: l.subsections.iter().map(Sent::from).collect(),
            }
        }
    }

    impl From<Sent> for Layout {
        fn from(s: Sent) -> Layout {
            let mut layout = Layout::named(Cow::Owned(s.name), s.version);
            layout.fields = s
                .fields
                .into_iter()
                .map(|f| {
                    let mut field = FieldLayout::value_owned(f.name, f.info, f.size);
                    field.array_len = f.count;
                    field.nested = f.nested.map(|n| Box::new(Layout::from(*n)));
                    field
                })
                .collect();
            layout.subsections = s.subsections.into_iter().map(Layout::from).collect();
            layout
        }
    }

    pub(super) fn serialize<S: Serializer>(v: &Option<Layout>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(Sent::from).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Layout>, D::Error> {
        Ok(Option::<Sent>::deserialize(d)?.map(Layout::from))
    }
}

/// One property's resolved value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PropertyLock {
    /// The property.
    pub name: String,
    /// Its value, as text.
    pub value: String,
    /// The compat set that set it, or `None` for the class default.
    pub set_by: Option<String>,
}

/// One must-match value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MustMatchLock {
    /// The field path.
    pub path: String,
    /// Its bytes, in hex, runs of one byte as `HH*N` ([`hex`]).
    pub bytes: String,
    /// The compared bits, likewise, when not all are.
    pub mask: Option<String>,
}

impl From<MustMatchValue> for MustMatchLock {
    fn from(v: MustMatchValue) -> Self {
        MustMatchLock {
            path: v.path,
            bytes: hex(&v.bytes),
            mask: v.mask.as_deref().map(hex),
        }
    }
}

/// One device type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DeviceTypeLock {
    /// Its name.
    pub name: String,
    /// Its parent type.
    pub parent: Option<String>,
    /// Whether it is abstract.
    #[serde(rename = "abstract")]
    pub is_abstract: bool,
    /// Its own properties (not inherited ones): name, kind, declared default.
    pub properties: Vec<PropertyDefLock>,
    /// Properties (its own or inherited) that have no effect on this type:
    /// values may differ between the two sides (written only when some
    /// are).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inert: Vec<String>,
    /// Its VMState, if its instances migrate.
    pub vmstate: Option<StateRecord>,
}

/// One property declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PropertyDefLock {
    /// The property.
    pub name: String,
    /// Its kind (`uint16`, `bool (bit 0 of a u32)`, `OnOffAuto`).
    pub kind: String,
    /// Its class default, as text.
    pub default: String,
    /// Whether a destination may take its value from an incoming
    /// migration (written only when it may).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sticky: bool,
    /// Whether it is a setting of the host, not compared by a pre-flight
    /// (written only when it is).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local: bool,
    /// How a release whose type lacked the property behaved (written only
    /// when declared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<String>,
    /// Values that behave alike: the default and the one declared so
    /// (written only when declared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alike: Vec<String>,
}

/// A lock that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Not JSON of the lock's layout.
    #[error("not a lock: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by a schema this code does not read.
    #[error("lock schema {found} is not the schema {SCHEMA} this code reads")]
    Schema {
        /// The schema the file says.
        found: u32,
    },
    /// A text with control characters: no name has them, and findings
    /// print the names a lock holds.
    #[error("not a lock: a text holds control characters: {}", crate::text::escape::escaped(.text))]
    ControlCharacters {
        /// The text.
        text: String,
    },
}

/// The first string in `value` (keys included) that holds a control
/// character.
pub(super) fn text_with_controls(value: &serde_json::Value) -> Option<&str> {
    use serde_json::Value;
    let has = |s: &str| s.chars().any(char::is_control);
    match value {
        Value::String(s) => has(s).then_some(s.as_str()),
        Value::Array(items) => items.iter().find_map(text_with_controls),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if has(k) {
                Some(k.as_str())
            } else {
                text_with_controls(v)
            }
        }),
        _ => None,
    }
}

impl Lock {
    /// What `release` promises.
    pub fn of(release: &Release) -> Lock {
        Lock {
            schema: SCHEMA,
            release: release.name().to_owned(),
            machine_types: release
                .machines()
                .iter()
                .map(|m| MachineLock {
                    name: m.name.clone(),
                    family: m.family.clone(),
                    version: m.version.map(|v| v.to_string()),
                    alias: m.alias.clone(),
                    default: m.is_default,
                    deprecated: m.deprecation.clone(),
                    own_compat_sets: m.own_compat_sets.iter().map(|s| (*s).to_owned()).collect(),
                    compat: m
                        .compat_props
                        .iter()
                        .map(|e| GlobalLock {
                            set: e.set.to_owned(),
                            driver: e.global.driver.to_owned(),
                            property: e.global.property.to_owned(),
                            value: e.global.value.to_owned(),
                        })
                        .collect(),
                    flags: m.flags.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
                    stream: stream_name(m.stream_format).to_owned(),
                    onboard: m.onboard.iter().map(|s| (*s).to_owned()).collect(),
                    devices: release
                        .registry()
                        .types()
                        .filter(|t| !t.is_abstract && t.instantiate.is_some())
                        .map(|t| device(release, &m.name, t))
                        .collect(),
                })
                .collect(),
            device_types: release
                .registry()
                .types()
                .filter(|t| t.parent.is_some())
                .map(device_type)
                .collect(),
            unknown: Vec::new(),
        }
    }

    /// Whether the lock says `what` (its source could tell it).
    pub fn knows(&self, what: Unknown) -> bool {
        !self.unknown.contains(&what)
    }

    /// The lock as diff-friendly JSON: two-space indentation, one key a
    /// line, a newline at the end.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a lock serializes");
        text.push('\n');
        text
    }

    /// Read a lock written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<Lock, LockError> {
        // The schema first, so that a lock of another schema says so
        // rather than failing on a field it does not know.
        #[derive(Deserialize)]
        struct Schema {
            schema: u32,
        }
        let Schema { schema } = serde_json::from_str(text)?;
        if schema != SCHEMA {
            return Err(LockError::Schema { found: schema });
        }
        let value: serde_json::Value = serde_json::from_str(text)?;
        if let Some(text) = text_with_controls(&value) {
            return Err(LockError::ControlCharacters {
                text: text.to_owned(),
            });
        }
        // Read again as a lock, for errors that say line and column.
        Ok(serde_json::from_str(text)?)
    }

    /// Whether its VMState records say array lengths: a release's do; a
    /// dump's only from QEMU 8.x on (`num`), and then all of one binary's
    /// do.
    pub fn records_lengths(&self) -> bool {
        self.knows(Unknown::WireTypes)
            || self
                .device_types
                .iter()
                .filter_map(|t| t.vmstate.as_ref())
                .any(crate::migration::dump::records_lengths)
    }

    /// Device type `name`.
    pub fn device_type(&self, name: &str) -> Option<&DeviceTypeLock> {
        self.device_types.iter().find(|t| t.name == name)
    }

    /// Device type `name` and its ancestors, nearest first (as far as the
    /// lock has them; a parent chain that loops ends where it would).
    pub fn ancestors<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a DeviceTypeLock> + 'a {
        let mut next = self.device_type(name);
        let mut seen = 0usize;
        std::iter::from_fn(move || {
            let this = next.take()?;
            seen += 1;
            if seen <= self.device_types.len() {
                next = this.parent.as_deref().and_then(|p| self.device_type(p));
            }
            Some(this)
        })
    }

    /// Property `name` of device type `ty`, declared by it or an ancestor,
    /// with the type that declares it.
    pub fn find_property(
        &self,
        ty: &str,
        name: &str,
    ) -> Option<(&DeviceTypeLock, &PropertyDefLock)> {
        self.ancestors(ty)
            .find_map(|t| Some((t, t.properties.iter().find(|p| p.name == name)?)))
    }

    /// Whether property `name` has no effect on device type `ty`: the type
    /// or an ancestor says so.
    pub fn is_inert(&self, ty: &str, name: &str) -> bool {
        self.ancestors(ty)
            .any(|t| t.inert.iter().any(|i| i == name))
    }

    /// The machine type called `name` (canonical or alias).
    pub fn machine(&self, name: &str) -> Option<&MachineLock> {
        self.machine_types
            .iter()
            .find(|m| m.name == name || m.alias.as_deref() == Some(name))
    }
}

fn stream_name(format: StreamFormat) -> &'static str {
    match format {
        StreamFormat::DeviceState => "device-state",
        _ => "migration",
    }
}

/// Device type `ty` created on machine type `machine` with no options.
fn device(release: &Release, machine: &str, ty: &'static DeviceTypeInfo) -> DeviceLock {
    let mut lock = DeviceLock {
        type_name: ty.name.to_owned(),
        error: None,
        properties: Vec::new(),
        must_match: Vec::new(),
        sends: None,
    };
    let config = MachineConfig {
        machine: machine.to_owned(),
        devices: parse_device(&format!("{},id=lock0", ty.name))
            .into_iter()
            .collect(),
        ..MachineConfig::default()
    };
    let mut m = match release.instantiate_config(&config) {
        Ok(m) => m,
        Err(e) => {
            lock.error = Some(e.to_string());
            return lock;
        }
    };
    let sources = &m.sources;
    let Some(d) = m.devices.iter_mut().find(|d| d.label == "lock0") else {
        lock.error = Some("the device was not created".into());
        return lock;
    };
    for (_, def) in ty.all_properties() {
        // The last compat global that set it, if no later source did.
        let set_by = d
            .settings
            .iter()
            .rev()
            .find(|s| s.property == def.name)
            .and_then(|s| match &sources[s.source] {
                Source::Compat { set, .. } => Some((*set).to_owned()),
                _ => None,
            });
        lock.properties.push(PropertyLock {
            name: def.name.to_owned(),
            value: d
                .configured(def.name)
                .map(|v| v.to_string())
                .unwrap_or_default(),
            set_by,
        });
    }
    if let Some(state) = d.object.migratable() {
        let layout = state.state_layout();
        lock.sends = Some(layout.shape_only());
        lock.must_match = layout
            .must_match_values()
            .into_iter()
            .map(MustMatchLock::from)
            .collect();
    }
    lock
}

/// Bytes as hex, a run of four or more equal bytes as `HH*N`, tokens
/// separated by spaces: a 4 KiB config space of mostly zeros stays a line.
pub fn hex(bytes: &[u8]) -> String {
    let mut tokens: Vec<String> = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let run = bytes[i..].iter().take_while(|&&x| x == b).count();
        if run >= 4 {
            if !literal.is_empty() {
                tokens.push(std::mem::take(&mut literal));
            }
            tokens.push(format!("{b:02x}*{run}"));
            i += run;
        } else {
            let _ = write!(literal, "{b:02x}");
            i += 1;
        }
    }
    if !literal.is_empty() {
        tokens.push(literal);
    }
    tokens.join(" ")
}

/// The bytes [`hex`] wrote, or `None` if the text is not of its form.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for token in text.split(' ').filter(|t| !t.is_empty()) {
        if let Some((byte, count)) = token.split_once('*') {
            let byte = u8::from_str_radix(byte, 16).ok()?;
            let count: usize = count.parse().ok()?;
            // A lock is input too: no run may make a buffer beyond 16 MiB.
            if out.len().checked_add(count)? > 1 << 24 {
                return None;
            }
            out.resize(out.len() + count, byte);
        } else {
            if token.len() % 2 != 0 {
                return None;
            }
            for pair in token.as_bytes().chunks(2) {
                let pair = std::str::from_utf8(pair).ok()?;
                out.push(u8::from_str_radix(pair, 16).ok()?);
            }
        }
    }
    Some(out)
}

fn device_type(t: &'static DeviceTypeInfo) -> DeviceTypeLock {
    DeviceTypeLock {
        name: t.name.to_owned(),
        parent: t.parent.map(|p| p.name.to_owned()),
        is_abstract: t.is_abstract,
        properties: t
            .properties
            .iter()
            .map(|p| PropertyDefLock {
                name: p.name.to_owned(),
                kind: p.kind.to_string(),
                default: p.default_value().to_string(),
                sticky: p.sticky,
                local: p.local,
                absent: p.absent_text(),
                alike: p.alike_texts(),
            })
            .collect(),
        inert: t.inert.iter().map(|&name| name.to_owned()).collect(),
        vmstate: t.vmstate.map(StateRecord::of),
    }
}
