//! Where each device sits on the machine's buses, and the name of its
//! migration section that follows: QEMU names a device's section by its
//! device path (`0000:00:03.0/pcie-root-port`, `0000:00:03.0:00.0/virtio-blk`
//! behind a root port), a device on no bus by its VMState name, with an
//! instance number per name (`dma` 0 and 1).
//!
//! Addresses are PCI's `slot.function` (`03.0`; QEMU's `addr=`): a device
//! whose type has an `addr` property set sits there, any other in the first
//! slot whose function 0 is free, as QEMU assigns them.

use std::collections::BTreeMap;
use std::fmt;

use super::{DeviceInstance, ResolveError};
use crate::device::{BusPlace, DeviceObject};
use crate::machine::MachineType;
use crate::property::PropertyValue;

/// A PCI address: slot and function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PciAddress {
    /// The slot, `0..32`.
    pub slot: u8,
    /// The function, `0..8`.
    pub function: u8,
}

impl PciAddress {
    /// `SS[.F]` in hex, as QEMU's `addr=` takes it (`03.0`, `3`, `0x3`,
    /// `1f.2`).
    pub fn parse(text: &str) -> Option<PciAddress> {
        let (slot, function) = match text.split_once('.') {
            Some((s, f)) => (s, Some(f)),
            None => (text, None),
        };
        let slot = slot
            .strip_prefix("0x")
            .or_else(|| slot.strip_prefix("0X"))
            .unwrap_or(slot);
        let hex = |t: &str| {
            (!t.is_empty() && t.len() <= 2)
                .then(|| u8::from_str_radix(t, 16).ok())
                .flatten()
        };
        let slot = hex(slot).filter(|s| *s < 32)?;
        let function = match function {
            None => 0,
            Some(f) => hex(f).filter(|f| *f < 8)?,
        };
        Some(PciAddress { slot, function })
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}.{:x}", self.slot, self.function)
    }
}

/// A migration section's name and instance number, as QEMU gives them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SectionId {
    /// `<device path>/<VMState name>`, or the VMState name alone.
    pub idstr: String,
    /// The instance among sections of that name.
    pub instance_id: u32,
}

impl SectionId {
    /// One text for both: the idstr, with `#N` for an instance above 0.
    pub fn key(&self) -> String {
        match self.instance_id {
            0 => self.idstr.clone(),
            n => format!("{}#{n}", self.idstr),
        }
    }
}

/// A bus during placement.
struct Bus {
    name: String,
    kind: &'static str,
    /// The device path its devices' paths extend.
    path: String,
    slots: u8,
    /// Who has each address.
    taken: BTreeMap<PciAddress, String>,
    /// One of the machine's own buses.
    root: bool,
    express: bool,
}

/// The machine's buses as devices are placed on them, one at a time in
/// the order they are created (QEMU finds a device's bus before it
/// realizes it, so the device sees where it sits; a `bus=` names a bus that
/// exists by then).
pub(super) struct Placer {
    buses: Vec<Bus>,
}

impl Placer {
    /// The buses of `machine_type`, with its reserved addresses taken.
    pub(super) fn new(machine_type: &MachineType) -> Placer {
        let buses = machine_type
            .buses
            .iter()
            .map(|b| Bus {
                name: b.name.to_owned(),
                kind: b.kind,
                path: b.path.to_owned(),
                slots: 32,
                taken: b
                    .reserved
                    .iter()
                    .filter_map(|a| PciAddress::parse(a))
                    .map(|a| (a, format!("the machine's own device at {a}")))
                    .collect(),
                root: true,
                express: b.express,
            })
            .collect();
        Placer { buses }
    }

    /// Place device `object` (id `id`, asking for bus `bus`; `spec` its
    /// `-device` text, for errors): its device path, the bus it sits on and
    /// what QEMU warns of the place, or `None` for a device that plugs into
    /// no bus. A bridge or port with an id adds its bus.
    pub(super) fn place(
        &mut self,
        object: &dyn DeviceObject,
        id: Option<&str>,
        bus: Option<&str>,
        spec: &str,
    ) -> Result<Option<Placed>, ResolveError> {
        let fail = |message: String| ResolveError::Placement {
            spec: spec.to_owned(),
            message,
        };
        let ty = object.type_info();
        let Some(kind) = ty.bus_kind() else {
            if let Some(b) = bus {
                return Err(fail(format!(
                    "Bus '{}' not found: '{}' plugs into no bus",
                    crate::text::escape::escaped(b),
                    ty.name
                )));
            }
            return Ok(None);
        };
        let buses = &mut self.buses;
        let index = match bus {
            Some(name) => {
                let i = buses.iter().position(|b| b.name == name).ok_or_else(|| {
                    fail(format!(
                        "Bus '{}' not found",
                        crate::text::escape::escaped(name)
                    ))
                })?;
                if buses[i].kind != kind {
                    return Err(fail(format!(
                        "Bus '{}' is a {} bus; '{}' plugs into a {kind} bus",
                        buses[i].name, buses[i].kind, ty.name
                    )));
                }
                i
            }
            None => buses
                .iter()
                .position(|b| b.kind == kind)
                .ok_or_else(|| fail(format!("No '{kind}' bus found for device '{}'", ty.name)))?,
        };
        let b = &mut buses[index];
        let owner = match id {
            Some(id) => format!("{},id={id}", ty.name),
            None => ty.name.to_owned(),
        };
        let asked = match object.get("addr") {
            Ok(PropertyValue::Str(text)) if !text.is_empty() => {
                Some(PciAddress::parse(&text).ok_or_else(|| {
                    fail(format!(
                        "Property '{}.addr' doesn't take value '{}': expects a slot and \
                         optional function number, example: 06.0 or 06",
                        ty.name,
                        crate::text::escape::escaped(&text)
                    ))
                })?)
            }
            _ => None,
        };
        let addr = match asked {
            Some(a) => match b.taken.get(&a) {
                Some(other) => {
                    return Err(fail(format!(
                        "PCI: slot {} function {} not available for {}, in use by {other}",
                        a.slot, a.function, ty.name
                    )))
                }
                None => a,
            },
            // The first slot whose function 0 is free, of all 32 a PCI bus
            // numbers (a root port's too, as QEMU assigns them).
            None => (0..32)
                .map(|slot| PciAddress { slot, function: 0 })
                .find(|a| !b.taken.contains_key(a))
                .ok_or_else(|| {
                    fail(format!(
                        "PCI: no slot/function available for {}, all in use or reserved",
                        ty.name
                    ))
                })?,
        };
        // A slot the parent does not offer (a root port's bus has slot 0
        // only): QEMU 10.0 warns and places the device there, where the
        // guest cannot reach it; QEMU 7.2 did so silently.
        let warning = (addr.slot >= b.slots).then(|| {
            format!(
                "PCI: slot {} is not valid for {}, parent device only allows plugging into \
                 slot{} {}.",
                addr.slot,
                ty.name,
                if b.slots == 1 { "" } else { "s up to" },
                b.slots - 1
            )
        });
        b.taken.insert(addr, owner);
        let path = format!("{}:{addr}", b.path);
        let place = BusPlace {
            name: b.name.clone(),
            kind: b.kind,
            root: b.root,
            express: b.express,
        };
        // A bridge or port: its bus, named by its id, extends its path.
        if let (Some(provided), Some(id)) = (ty.provides_bus, id) {
            buses.push(Bus {
                name: id.to_owned(),
                kind: provided,
                path: path.clone(),
                slots: ty.bus_slots,
                taken: BTreeMap::new(),
                root: false,
                express: false,
            });
        }
        Ok(Some(Placed {
            path,
            bus: place,
            warning,
        }))
    }
}

/// Where a device was placed.
pub(super) struct Placed {
    /// Its device path (`0000:00:03.0`).
    pub(super) path: String,
    /// The bus it sits on.
    pub(super) bus: BusPlace,
    /// What QEMU warns of the place, if anything.
    pub(super) warning: Option<String>,
}

/// Name every device's section: its device path and VMState name (or the
/// name alone, off any bus), instance numbers counting earlier sections of
/// the same name.
pub(super) fn name_sections(devices: &mut [DeviceInstance]) {
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for d in devices.iter_mut() {
        let Some(vmsd) = d.object.type_info().vmstate else {
            continue;
        };
        let idstr = match &d.dev_path {
            Some(path) => format!("{path}/{}", vmsd.name),
            None => vmsd.name.to_owned(),
        };
        let n = seen.entry(idstr.clone()).or_insert(0);
        d.section = Some(SectionId {
            idstr,
            instance_id: *n,
        });
        *n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::PciAddress;

    #[test]
    fn addresses_as_qemu_writes_them() {
        let a = |slot, function| Some(PciAddress { slot, function });
        assert_eq!(PciAddress::parse("03.0"), a(3, 0));
        assert_eq!(PciAddress::parse("3"), a(3, 0));
        assert_eq!(PciAddress::parse("0x3"), a(3, 0));
        assert_eq!(PciAddress::parse("1f.2"), a(0x1f, 2));
        for bad in ["", "20", "1.8", "x", "0x", "1.", "123", "1.2.3"] {
            assert_eq!(PciAddress::parse(bad), None, "{bad}");
        }
        assert_eq!(
            PciAddress {
                slot: 0x1f,
                function: 3
            }
            .to_string(),
            "1f.3"
        );
    }
}
