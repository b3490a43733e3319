//! A real QEMU binary read into a lock: asked over QMP (`query-version`,
//! `query-machines`, `qom-list-types`, `device-list-properties`,
//! `qom-list-properties`) and with `-dump-vmstate`, so that the release it
//! is stands wherever a release's lock does (`verify --against`, `check
//! --from/--to`). What the binary does not tell is listed in the lock's
//! `unknown` and left out, never guessed.

mod instances;
mod qmp;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::codec::input::{read_text, JSON_FILE_LIMIT};
use crate::machine::Version;
use crate::migration::dump_check::VmStateDump;
use crate::migration::lock::{
    DeviceLock, DeviceTypeLock, GlobalLock, Lock, MachineLock, PropertyDefLock, PropertyLock,
    Unknown, SCHEMA,
};
use crate::property::PropertyKind;
use crate::text::escape::escaped;

pub use qmp::{qemu_command, Qmp, QmpError};

/// Why a QEMU binary could not be read into a lock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QemuReadError {
    /// Asking it over QMP failed.
    #[error(transparent)]
    Qmp(#[from] QmpError),
    /// A device type the caller named is not one of the binary's.
    #[error("QEMU {release} has no device type '{}'", escaped(.name))]
    NoSuchType {
        /// The binary's version.
        release: String,
        /// The name asked for.
        name: String,
    },
    /// `-dump-vmstate` failed or wrote no dump.
    #[error("QEMU's -dump-vmstate: {0}")]
    Dump(String),
    /// An answer of an unexpected shape.
    #[error("QEMU's answer to `{asked}` is not of the expected shape")]
    Shape {
        /// What was asked.
        asked: &'static str,
    },
}

/// A lock read from a QEMU binary, and the device types left out of it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QemuLock {
    /// The lock.
    pub lock: Lock,
    /// Device types QEMU would not list properties for (only when reading
    /// every type), each with QEMU's words, escaped for a terminal.
    pub left_out: Vec<(String, String)>,
}

/// How each device's values per machine type are learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceValues {
    /// From the machine types' compat properties where QEMU lists them
    /// (10.0, 11.1), else — for the device types named — by creating each
    /// device on each machine type.
    Best,
    /// By creating each device on each machine type and reading its
    /// properties back, whatever QEMU lists (slower; values a device decides
    /// when it realizes are read as it decided them). Only for the device
    /// types named: every type on every machine type would start QEMU
    /// thousands of times.
    ReadBack,
}

/// Read the QEMU that `command` runs (a shell command: the install
/// script's wrapper, or `chroot ROOT qemu-system-x86_64`) into a lock:
/// every machine type, and the device types `types` with their ancestors —
/// or, with `None`, every device type it can create.
pub fn read_qemu(command: &str, types: Option<&[String]>) -> Result<QemuLock, QemuReadError> {
    read_qemu_with(command, types, DeviceValues::Best)
}

/// [`read_qemu`], learning each device's values per machine type as `how`
/// says.
pub fn read_qemu_with(
    command: &str,
    types: Option<&[String]>,
    how: DeviceValues,
) -> Result<QemuLock, QemuReadError> {
    let mut qmp = start(command)?;
    let version = qmp.execute("query-version", json!({}))?;
    let q = &version["qemu"];
    let release = match (
        q["major"].as_u64(),
        q["minor"].as_u64(),
        q["micro"].as_u64(),
    ) {
        (Some(a), Some(b), Some(c)) => format!("qemu-{a}.{b}.{c}"),
        _ => {
            return Err(QemuReadError::Shape {
                asked: "query-version",
            })
        }
    };
    let mut unknown = vec![
        Unknown::Declarations,
        Unknown::FreshState,
        Unknown::MachineClass,
        Unknown::WireTypes,
    ];
    let machines = match qmp.execute("query-machines", json!({ "compat-props": true })) {
        Ok(m) => m,
        Err(QmpError::Refused { .. }) => {
            unknown.push(Unknown::CompatProperties);
            qmp.execute("query-machines", json!({}))?
        }
        Err(e) => return Err(e.into()),
    };
    let tree = type_tree(&qmp.execute(
        "qom-list-types",
        json!({ "implements": "device", "abstract": true }),
    )?)?;
    let wanted: Vec<String> = match types {
        Some(names) => {
            for name in names {
                if !tree.contains_key(name) {
                    return Err(QemuReadError::NoSuchType {
                        release,
                        name: name.clone(),
                    });
                }
            }
            names.to_vec()
        }
        None => tree
            .iter()
            .filter(|(_, t)| !t.is_abstract)
            .map(|(n, _)| n.clone())
            .collect(),
    };
    // Each wanted type's properties, its ancestors' and its children's.
    let mut lister = Lister {
        qmp,
        command,
        every: types.is_none(),
        properties: BTreeMap::new(),
        left_out: Vec::new(),
    };
    let mut listed = Vec::new();
    for name in &wanted {
        let mut complete = true;
        for t in chain_of(&tree, name) {
            complete = complete && lister.list(&t, is_abstract(&tree, &t))?;
        }
        // The types of its children (a virtio proxy's `virtio-backend`),
        // whose properties it shows as its own.
        let children: Vec<String> = chain_of(&tree, name)
            .iter()
            .flat_map(|t| lister.properties.get(t).into_iter().flatten())
            .filter_map(|p| p.child_type())
            .map(str::to_owned)
            .collect();
        for child in children.iter().flat_map(|c| chain_of(&tree, c)) {
            complete = complete && lister.list(&child, is_abstract(&tree, &child))?;
        }
        if complete {
            listed.push(name.clone());
        }
    }
    let Lister {
        qmp,
        properties,
        left_out,
        ..
    } = lister;
    qmp.quit();
    let dump = dump_vmstate(command)?;
    let device_types = device_types(&tree, &listed, &properties, &dump);
    let all_of = |t: &str| all_properties(&tree, &properties, t);
    let creatable = listed.iter().filter(|t| !is_abstract(&tree, t));
    let mut machine_types = machine_types(&machines, &release)?;
    let listed_values = how == DeviceValues::Best && !unknown.contains(&Unknown::CompatProperties);
    if !listed_values && types.is_none() {
        // Creating every device type on every machine type would start
        // QEMU thousands of times: not done.
        unknown.push(Unknown::DeviceValues);
    } else if !listed_values {
        // Without the compat properties, each device is created on each
        // machine type and read back.
        let wanted: Vec<instances::Wanted> = creatable
            .map(|t| {
                let all = all_of(t);
                instances::Wanted {
                    name: t.clone(),
                    drive: all.iter().any(|p| p.name == "drive"),
                    properties: all.into_iter().filter(|p| p.default.is_some()).collect(),
                }
            })
            .collect();
        instances::read_back(command, &mut machine_types, &wanted)?;
    } else {
        for m in &mut machine_types {
            m.devices = creatable
                .clone()
                .map(|t| device_on(m, t, &applies_to(&tree, &properties, t), &all_of(t)))
                .collect();
        }
    }
    unknown.sort();
    Ok(QemuLock {
        lock: Lock {
            schema: SCHEMA,
            release,
            machine_types,
            device_types,
            unknown,
        },
        left_out,
    })
}

/// Lists types' properties with one QEMU, and — when reading every type —
/// leaves out a type QEMU refuses or dies on (one whose module is missing),
/// starting QEMU again.
struct Lister<'c> {
    qmp: Qmp,
    command: &'c str,
    every: bool,
    properties: BTreeMap<String, Vec<QemuProperty>>,
    left_out: Vec<(String, String)>,
}

impl Lister<'_> {
    /// List type `name`'s properties unless listed already; whether it is.
    fn list(&mut self, name: &str, is_abstract: bool) -> Result<bool, QemuReadError> {
        if self.properties.contains_key(name) {
            return Ok(true);
        }
        if self.left_out.iter().any(|(t, _)| t == name) {
            return Ok(false);
        }
        match list_properties(&mut self.qmp, name, is_abstract) {
            Ok(p) => {
                self.properties.insert(name.to_owned(), p);
                Ok(true)
            }
            Err(QmpError::Refused { desc, .. }) if self.every => {
                self.left_out.push((name.to_owned(), desc));
                Ok(false)
            }
            Err(QmpError::Ended { stderr, .. }) if self.every => {
                self.left_out.push((name.to_owned(), stderr));
                self.qmp = start(self.command)?;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// QEMU with no machine and no devices, paused, asked over QMP.
fn start(command: &str) -> Result<Qmp, QmpError> {
    Qmp::start(
        command,
        &["-nodefaults", "-display", "none", "-S", "-machine", "none"],
    )
}

/// One type of QEMU's tree.
struct QemuType {
    parent: Option<String>,
    is_abstract: bool,
}

/// One property as QEMU lists it: its name, its type and its default as
/// text, where QEMU gives one.
#[derive(Clone)]
struct QemuProperty {
    name: String,
    kind: String,
    default: Option<String>,
}

fn type_tree(list: &Value) -> Result<BTreeMap<String, QemuType>, QemuReadError> {
    let shape = QemuReadError::Shape {
        asked: "qom-list-types",
    };
    let Some(items) = list.as_array() else {
        return Err(shape);
    };
    let mut tree = BTreeMap::new();
    for item in items {
        let Some(name) = item["name"].as_str() else {
            return Err(shape);
        };
        tree.insert(
            name.to_owned(),
            QemuType {
                parent: item["parent"].as_str().map(str::to_owned),
                is_abstract: item["abstract"].as_bool().unwrap_or(false),
            },
        );
    }
    Ok(tree)
}

/// Whether `name` is an abstract type of the tree.
fn is_abstract(tree: &BTreeMap<String, QemuType>, name: &str) -> bool {
    tree.get(name).is_some_and(|t| t.is_abstract)
}

/// `name` and its ancestors below `device`, the root first; nothing for a
/// name that is not a device type of the tree.
fn chain_of(tree: &BTreeMap<String, QemuType>, name: &str) -> Vec<String> {
    if !tree.contains_key(name) {
        return Vec::new();
    }
    let mut out = vec![name.to_owned()];
    let mut at = name;
    while let Some(parent) = tree.get(at).and_then(|t| t.parent.as_deref()) {
        if parent == "device" || !tree.contains_key(parent) || out.len() > 64 {
            break;
        }
        out.push(parent.to_owned());
        at = parent;
    }
    out.reverse();
    out
}

/// A type's properties as QEMU lists them for `-device`: not the object
/// plumbing every device has, nor children and links.
fn list_properties(
    qmp: &mut Qmp,
    name: &str,
    is_abstract: bool,
) -> Result<Vec<QemuProperty>, QmpError> {
    // QEMU lists an abstract type's properties only as a QOM class.
    let command = match is_abstract {
        true => "qom-list-properties",
        false => "device-list-properties",
    };
    let list = qmp.execute(command, json!({ "typename": name }))?;
    let plumbing = [
        "type",
        "realized",
        "hotpluggable",
        "hotplugged",
        "parent_bus",
    ];
    Ok(list
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let name = p["name"].as_str()?;
            let kind = p["type"].as_str().unwrap_or_default();
            if plumbing.contains(&name) || kind.starts_with("link<") {
                return None;
            }
            Some(QemuProperty {
                name: name.to_owned(),
                kind: kind.to_owned(),
                default: p.get("default-value").map(|v| {
                    let text = match v {
                        Value::Bool(b) => if *b { "on" } else { "off" }.to_owned(),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    normalized(kind, &text)
                }),
            })
        })
        .collect())
}

/// `text` as compat writes a value of QEMU's property type `kind`
/// (`true` as `on`, sizes as compat shows them); other types as given.
fn normalized(kind: &str, text: &str) -> String {
    PropertyKind::of_type_name(kind)
        .and_then(|k| k.parse(text).ok())
        .map_or_else(|| text.to_owned(), |v| v.to_string())
}

/// Every property of `name`, its ancestors' first.
fn all_properties(
    tree: &BTreeMap<String, QemuType>,
    properties: &BTreeMap<String, Vec<QemuProperty>>,
    name: &str,
) -> Vec<QemuProperty> {
    // In the order the chain declares them, each as the most derived type
    // lists it (QEMU lists an abstract type's class properties without
    // their defaults, and a created type's with them).
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<QemuProperty> = Vec::new();
    for t in chain_of(tree, name) {
        for p in properties.get(&t).into_iter().flatten() {
            if p.child_type().is_some() {
                continue;
            }
            match at.get(&p.name) {
                Some(&i) if p.default.is_some() || out[i].default.is_none() => out[i] = p.clone(),
                Some(_) => {}
                None => {
                    at.insert(p.name.clone(), out.len());
                    out.push(p.clone());
                }
            }
        }
    }
    out
}

/// For each property of a device of type `name`, the types whose compat
/// properties set it: its own chain's, and — for a property its child
/// (`virtio-backend`) has, which the device shows as an alias — the
/// child's chain's too (QEMU applies globals to the child object).
fn applies_to(
    tree: &BTreeMap<String, QemuType>,
    properties: &BTreeMap<String, Vec<QemuProperty>>,
    name: &str,
) -> BTreeMap<String, Vec<String>> {
    let own = chain_of(tree, name);
    let mut out: BTreeMap<String, Vec<String>> = all_properties(tree, properties, name)
        .into_iter()
        .map(|p| (p.name, own.clone()))
        .collect();
    let children: Vec<&str> = own
        .iter()
        .flat_map(|t| properties.get(t).into_iter().flatten())
        .filter_map(|p| p.child_type())
        .collect();
    for child in children {
        let theirs = chain_of(tree, child);
        for p in all_properties(tree, properties, child) {
            if let Some(drivers) = out.get_mut(&p.name) {
                drivers.extend(theirs.iter().cloned());
            }
        }
    }
    out
}

impl QemuProperty {
    /// The type of the child this property holds (`child<virtio-blk-device>`).
    fn child_type(&self) -> Option<&str> {
        self.kind.strip_prefix("child<")?.strip_suffix('>')
    }
}

fn device_types(
    tree: &BTreeMap<String, QemuType>,
    listed: &[String],
    properties: &BTreeMap<String, Vec<QemuProperty>>,
    dump: &VmStateDump,
) -> Vec<DeviceTypeLock> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for name in listed {
        names.extend(chain_of(tree, name));
        for t in chain_of(tree, name) {
            let children = properties.get(&t).into_iter().flatten();
            for child in children.filter_map(|p| p.child_type()) {
                names.extend(chain_of(tree, child));
            }
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let t = tree.get(&name)?;
            let parent = t.parent.clone();
            let inherited: BTreeSet<String> = parent
                .as_deref()
                .map(|p| all_properties(tree, properties, p))
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.name)
                .collect();
            Some(DeviceTypeLock {
                is_abstract: t.is_abstract,
                properties: properties
                    .get(&name)
                    .into_iter()
                    .flatten()
                    .filter(|p| p.child_type().is_none() && !inherited.contains(&p.name))
                    .map(|p| PropertyDefLock {
                        name: p.name.clone(),
                        kind: p.kind.clone(),
                        // QEMU gives none for some (a string, a link):
                        // empty, as compat writes an unset string.
                        default: p.default.clone().unwrap_or_default(),
                        sticky: false,
                        local: false,
                        absent: None,
                        alike: Vec::new(),
                    })
                    .collect(),
                inert: Vec::new(),
                vmstate: dump.types.get(&name).map(|t| t.description.clone()),
                parent,
                name,
            })
        })
        .collect()
}

/// QEMU's machine types, each with its compat properties where QEMU
/// lists them; a compat property's set is named after the step (the
/// newest machine type of the family that has it), since QEMU does not
/// say the name of the array (`hw_compat_7_2`) it came from.
fn machine_types(machines: &Value, release: &str) -> Result<Vec<MachineLock>, QemuReadError> {
    let Some(items) = machines.as_array() else {
        return Err(QemuReadError::Shape {
            asked: "query-machines",
        });
    };
    let mut out: Vec<(MachineLock, Vec<CompatProperty>)> = Vec::new();
    for m in items {
        let Some(name) = m["name"].as_str() else {
            return Err(QemuReadError::Shape {
                asked: "query-machines",
            });
        };
        let (family, version) = family_and_version(name);
        let props: Vec<CompatProperty> = m["compat-props"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                Some((
                    p["qom-type"].as_str()?.to_owned(),
                    p["property"].as_str()?.to_owned(),
                    p["value"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let lock = MachineLock {
            name: name.to_owned(),
            family,
            version,
            alias: m["alias"].as_str().map(str::to_owned),
            default: m["is-default"].as_bool().unwrap_or(false),
            deprecated: m["deprecated"]
                .as_bool()
                .unwrap_or(false)
                .then(|| format!("deprecated in {release}")),
            own_compat_sets: Vec::new(),
            compat: Vec::new(),
            flags: BTreeMap::new(),
            stream: "migration".to_owned(),
            onboard: Vec::new(),
            devices: Vec::new(),
        };
        out.push((lock, props));
    }
    out.sort_by(|(a, _), (b, _)| {
        (&a.family, a.parsed_version()).cmp(&(&b.family, b.parsed_version()))
    });
    // The step of an entry: the newest machine type of the family that has
    // it (types are sorted oldest first within a family).
    let steps: Vec<Vec<String>> = (0..out.len())
        .map(|i| {
            out[i]
                .1
                .iter()
                .map(|entry| {
                    let family = &out[i].0.family;
                    let newest = (i..out.len())
                        .take_while(|&j| &out[j].0.family == family)
                        .filter(|&j| out[j].1.contains(entry))
                        .last()
                        .unwrap_or(i);
                    format!("step of {}", out[newest].0.name)
                })
                .collect()
        })
        .collect();
    Ok(out
        .into_iter()
        .zip(steps)
        .map(|((mut m, props), sets)| {
            let own = format!("step of {}", m.name);
            if sets.contains(&own) {
                m.own_compat_sets.push(own);
            }
            m.compat = props
                .into_iter()
                .zip(sets)
                .map(|((driver, property, value), set)| GlobalLock {
                    set,
                    driver,
                    property,
                    value,
                })
                .collect();
            m
        })
        .collect())
}

/// One compat property as `query-machines` lists it: `{qom-type,
/// property, value}`.
type CompatProperty = (String, String, String);

/// `pc-q35-4.0.1` → (`pc-q35`, `4.0.1`); a name without a version is its
/// own family.
fn family_and_version(name: &str) -> (String, Option<String>) {
    match name.rsplit_once('-') {
        Some((family, version)) if !family.is_empty() && version.parse::<Version>().is_ok() => {
            (family.to_owned(), Some(version.to_owned()))
        }
        _ => (name.to_owned(), None),
    }
}

/// A device of type `type_name` on machine type `m`: each property's class
/// default, then the machine type's compat properties in order where they
/// name a type `applies_to` lists for it (QEMU applies them as globals, the
/// last one deciding).
fn device_on(
    m: &MachineLock,
    type_name: &str,
    applies_to: &BTreeMap<String, Vec<String>>,
    all: &[QemuProperty],
) -> DeviceLock {
    // A property QEMU gives no default for has no value to compare.
    let properties = all
        .iter()
        .filter(|p| p.default.is_some())
        .map(|p| {
            let drivers = applies_to
                .get(&p.name)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let last = m
                .compat
                .iter()
                .rev()
                .find(|g| g.property == p.name && drivers.contains(&g.driver));
            PropertyLock {
                name: p.name.clone(),
                value: last.map_or_else(
                    || p.default.clone().unwrap_or_default(),
                    |g| normalized(&p.kind, &g.value),
                ),
                set_by: last.map(|g| g.set.clone()),
            }
        })
        .collect();
    DeviceLock {
        type_name: type_name.to_owned(),
        error: None,
        properties,
        must_match: Vec::new(),
        sends: None,
    }
}

/// What `-machine none -dump-vmstate` writes, read.
fn dump_vmstate(command: &str) -> Result<VmStateDump, QemuReadError> {
    // Under the temporary directory (`/tmp`), which a chrooted QEMU sees
    // as its own.
    let file: PathBuf = std::env::temp_dir().join(format!(
        "compat-qemu-dump-{}-{}.json",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let path = file.to_string_lossy().into_owned();
    let run = qemu_command(
        command,
        &[
            "-nodefaults",
            "-display",
            "none",
            "-machine",
            "none",
            "-dump-vmstate",
            &path,
        ],
    )
    .output();
    let text = read_text(&file, JSON_FILE_LIMIT);
    let _ = std::fs::remove_file(&file);
    let out = run.map_err(|e| QemuReadError::Dump(e.to_string()))?;
    let text = match (out.status.success(), text) {
        (true, Ok(text)) => text,
        (_, text) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let why = match text {
                Err(e) => format!("{e}; {stderr}"),
                Ok(_) => stderr.into_owned(),
            };
            return Err(QemuReadError::Dump(escaped(why.trim()).to_string()));
        }
    };
    VmStateDump::parse(&text).map_err(|e| QemuReadError::Dump(e.to_string()))
}
