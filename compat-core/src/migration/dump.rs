//! `-dump-vmstate`: a release's VMState descriptions as JSON in the key
//! layout QEMU writes (`migration/savevm.c` `dump_vmstate_json`), so QEMU's
//! `scripts/vmstate-static-checker.py` compares two of ours as it compares
//! two of QEMU's.
//!
//! Like QEMU's, the dump is class-level: one entry per device type that
//! migrates, the same for every machine type but for `vmschkmachine`.

use serde_json::{Map, Value};

use crate::release::{Release, UnknownMachine};
use crate::vmstate::{VmStateDescription, VmStateField};

/// The dump of `release` for machine type `machine`, as JSON text with
/// QEMU's two-space indentation.
pub fn dump_vmstate(release: &Release, machine: &str) -> Result<String, UnknownMachine> {
    let machine = release.machine(machine)?;
    let mut top = Map::new();
    let mut name = Map::new();
    name.insert("Name".into(), machine.name.clone().into());
    top.insert("vmschkmachine".into(), Value::Object(name));
    for ty in release.registry().types() {
        let Some(desc) = ty.vmstate else { continue };
        let mut entry = Map::new();
        entry.insert("Name".into(), ty.name.into());
        entry.insert("version_id".into(), desc.version_id.into());
        entry.insert("minimum_version_id".into(), desc.minimum_version_id.into());
        entry.insert("Description".into(), description(desc));
        top.insert(ty.name.into(), Value::Object(entry));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(top)).expect("JSON serializes");
    text.push('\n');
    Ok(text)
}

/// One description: `name`, versions, `Fields`, and `Subsections` when it
/// has any.
pub fn description(desc: &VmStateDescription) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), desc.name.into());
    m.insert("version_id".into(), desc.version_id.into());
    m.insert("minimum_version_id".into(), desc.minimum_version_id.into());
    m.insert(
        "Fields".into(),
        Value::Array(desc.fields.iter().map(field).collect()),
    );
    if !desc.subsections.is_empty() {
        m.insert(
            "Subsections".into(),
            Value::Array(desc.subsections.iter().map(|s| description(s)).collect()),
        );
    }
    Value::Object(m)
}

/// One field: `field`, `version_id`, `field_exists`, `num` for arrays (as
/// QEMU 10 writes it), `size` (of one element), and the nested
/// `Description` of a struct.
fn field(f: &VmStateField) -> Value {
    let mut m = Map::new();
    m.insert("field".into(), f.name.into());
    m.insert("version_id".into(), f.version_id.into());
    m.insert("field_exists".into(), f.has_exists_test.into());
    if let Some(len) = f.kind.count() {
        m.insert("num".into(), len.into());
    }
    m.insert("size".into(), f.element_size().into());
    if let Some(d) = f.kind.nested() {
        m.insert("Description".into(), description(d));
    }
    Value::Object(m)
}
