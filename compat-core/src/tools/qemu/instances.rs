//! Each device's values per machine type from a QEMU that does not list its
//! machine types' compat properties (5.2, 7.2): every device type asked for
//! is created on every machine type and each property read back
//! (`qom-get`). A value read is what the device holds once realized, so a
//! value it decides itself (virtio's automatic queue count) is told from a
//! compat property by comparing machine types: where a machine type reads
//! what the newest of its family reads (QEMU's newest machine type has no
//! compat properties), the property holds its class default; elsewhere the
//! value read, set by the step of the newest machine type that still reads
//! it.

use serde_json::{json, Value};

use super::qmp::{Qmp, QmpError};
use super::{normalized, QemuProperty};
use crate::migration::lock::{DeviceLock, MachineLock, PropertyLock};

/// One device type to create: its name, every property it has a default
/// for, and whether it needs a block device (it has a `drive`).
pub(super) struct Wanted {
    pub(super) name: String,
    pub(super) properties: Vec<QemuProperty>,
    pub(super) drive: bool,
}

/// What one device read back: each property's value as text, or why it did
/// not start.
type ReadBack = Result<Vec<(String, String)>, String>;

/// Fill `machines`' devices with what each device type of `wanted` reads
/// back on each of them.
pub(super) fn read_back(
    command: &str,
    machines: &mut [MachineLock],
    wanted: &[Wanted],
) -> Result<(), QmpError> {
    let mut read: Vec<Vec<ReadBack>> = Vec::new();
    for m in machines.iter() {
        read.push(on_machine(command, &m.name, wanted)?);
    }
    for i in 0..machines.len() {
        let newest = newest_of_family(machines, i);
        let devices = wanted
            .iter()
            .enumerate()
            .map(|(k, t)| match &read[i][k] {
                Err(why) => DeviceLock {
                    type_name: t.name.clone(),
                    error: Some(why.clone()),
                    properties: Vec::new(),
                    must_match: Vec::new(),
                    sends: None,
                },
                Ok(values) => DeviceLock {
                    type_name: t.name.clone(),
                    error: None,
                    properties: values
                        .iter()
                        .map(|(name, value)| {
                            let at = |j: usize| value_of(&read[j][k], name);
                            property(t, name, value, machines, i, newest, at)
                        })
                        .collect(),
                    must_match: Vec::new(),
                    sends: None,
                },
            })
            .collect();
        machines[i].devices = devices;
    }
    Ok(())
}

/// The lock's value of property `name` of type `t` on machine type `i`,
/// which read `value`: see the module's description.
fn property(
    t: &Wanted,
    name: &str,
    value: &str,
    machines: &[MachineLock],
    i: usize,
    newest: usize,
    at: impl Fn(usize) -> Option<String>,
) -> PropertyLock {
    let default = t
        .properties
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.default.clone())
        .unwrap_or_default();
    if at(newest).as_deref() == Some(value) {
        return PropertyLock {
            name: name.to_owned(),
            value: default,
            set_by: None,
        };
    }
    // The step: the newest machine type from this one on that reads the
    // same (machine types of a family are in order, oldest first).
    let mut step = i;
    while step < newest && at(step + 1).as_deref() == Some(value) {
        step += 1;
    }
    PropertyLock {
        name: name.to_owned(),
        value: value.to_owned(),
        set_by: Some(format!("step of {}", machines[step].name)),
    }
}

fn value_of(read: &ReadBack, name: &str) -> Option<String> {
    let values = read.as_ref().ok()?;
    values
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// The index of the newest machine type of machine type `i`'s family
/// (machine types are sorted by family, then version).
fn newest_of_family(machines: &[MachineLock], i: usize) -> usize {
    let family = &machines[i].family;
    let mut j = i;
    while j + 1 < machines.len() && &machines[j + 1].family == family {
        j += 1;
    }
    j
}

/// Every wanted device created on machine type `machine`, read back: all at
/// once; where QEMU refuses one (naming its `-device`, as it does), that one
/// with QEMU's words and the rest again; where QEMU names none, each alone.
fn on_machine(command: &str, machine: &str, wanted: &[Wanted]) -> Result<Vec<ReadBack>, QmpError> {
    let mut read: Vec<Option<ReadBack>> = vec![None; wanted.len()];
    let mut left: Vec<usize> = (0..wanted.len()).collect();
    while !left.is_empty() {
        match started(command, machine, wanted, &left) {
            Ok(mut qmp) => {
                for &k in &left {
                    read[k] = Some(read_device(&mut qmp, k, &wanted[k]));
                }
                qmp.quit();
                left.clear();
            }
            Err(QmpError::Ended { stderr, .. }) => {
                // QEMU's error names the option: `-device TYPE,id=compatK...:`.
                let named = |k: &usize| {
                    let id = format!("id=compat{k}");
                    stderr
                        .split(&id)
                        .skip(1)
                        .any(|rest| rest.starts_with([',', ':']))
                };
                match left.iter().position(named) {
                    Some(i) => {
                        read[left.remove(i)] = Some(Err(stderr));
                    }
                    None => {
                        for k in std::mem::take(&mut left) {
                            read[k] = Some(alone(command, machine, wanted, k));
                        }
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(read.into_iter().flatten().collect())
}

/// Device `k` of `wanted` created alone on `machine`, read back.
fn alone(command: &str, machine: &str, wanted: &[Wanted], k: usize) -> ReadBack {
    match started(command, machine, wanted, &[k]) {
        Ok(mut qmp) => {
            let read = read_device(&mut qmp, k, &wanted[k]);
            qmp.quit();
            read
        }
        Err(QmpError::Ended { stderr, .. }) => Err(stderr),
        Err(e) => Err(e.to_string()),
    }
}

/// QEMU on `machine`, paused, with the devices `which` of `wanted` (`id`
/// `compatK`; a type with a `drive` gets a null block device of its own).
fn started(
    command: &str,
    machine: &str,
    wanted: &[Wanted],
    which: &[usize],
) -> Result<Qmp, QmpError> {
    let mut args: Vec<String> = [
        "-nodefaults",
        "-display",
        "none",
        "-S",
        "-smp",
        "2",
        "-M",
        machine,
    ]
    .map(str::to_owned)
    .to_vec();
    for &k in which {
        let t = &wanted[k];
        let mut device = format!("{},id=compat{k}", t.name);
        if t.drive {
            args.push("-blockdev".into());
            args.push(format!("driver=null-co,node-name=compat-null{k}"));
            device.push_str(&format!(",drive=compat-null{k}"));
        }
        args.push("-device".into());
        args.push(device);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Qmp::start(command, &args)
}

/// Each property of device `compatK` that QEMU reads back, as compat
/// writes values.
fn read_device(qmp: &mut Qmp, k: usize, t: &Wanted) -> ReadBack {
    let path = format!("/machine/peripheral/compat{k}");
    let asked: Vec<(&str, Value)> = t
        .properties
        .iter()
        .map(|p| ("qom-get", json!({ "path": path, "property": p.name })))
        .collect();
    let mut out = Vec::new();
    for (p, read) in t.properties.iter().zip(qmp.execute_all(&asked)) {
        let value = match read {
            Ok(v) => v,
            // Not readable (a write-only property): not compared.
            Err(QmpError::Refused { .. }) => continue,
            Err(e) => return Err(e.to_string()),
        };
        let text = match value {
            Value::Bool(b) => if b { "on" } else { "off" }.to_owned(),
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        out.push((p.name.clone(), normalized(&p.kind, &text)));
    }
    Ok(out)
}
