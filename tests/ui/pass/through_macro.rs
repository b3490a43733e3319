//! Device families are declared with `macro_rules!`: every key of the
//! derives takes its value from a macro parameter, whatever its fragment
//! kind (`expr`, `literal`, `path`, `ident`, `ty`), and the expansion is the
//! one a hand-written declaration gives.
#![deny(warnings)]

use compat_core::{compat_set, Device, DeviceObject, PropertyValue, VMState};

macro_rules! uart {
    (
        $name:ident, type = $type_name:literal, vmsd = $vmsd:expr, version = $version:expr,
        revision = $revision:expr, fifo = $fifo:literal, timeout = $timeout:expr,
        label = $label:expr, bit = $bit:expr,
        gate = $gate:expr, gate_lit = $gate_lit:literal,
        needed = $needed:path, len = $len:ident, max = $max:expr, max_lit = $max_lit:literal,
        since = $since:expr, sub = $sub:expr, sub2 = $sub2:literal, parent = $parent:ty
    ) => {
        #[derive(Debug, Clone, Default, VMState)]
        #[vmstate(name = $sub, version = 1)]
        pub struct Timeout {
            pub ticks: u32,
        }

        #[derive(Debug, Clone, Default, VMState)]
        #[vmstate(name = $sub2, version = 1)]
        pub struct Other {
            pub ticks: u32,
        }

        #[derive(Debug, Clone, Device, VMState)]
        #[device(name = $type_name, parent = $parent, vmstate)]
        #[vmstate(name = $vmsd, version = $version)]
        pub struct $name {
            #[device(parent)]
            #[vmstate(skip)]
            pub parent: $parent,
            #[property(name = "revision", default = $revision)]
            #[vmstate(skip)]
            pub revision: u8,
            #[property(name = "fifo-depth", default = $fifo)]
            #[vmstate(skip)]
            pub fifo_depth: u32,
            #[property(name = "x-timeout", default = $timeout)]
            #[vmstate(skip)]
            pub x_timeout: bool,
            #[property(name = "x-other", default = false)]
            #[vmstate(skip)]
            pub x_other: bool,
            #[property(name = "label", default = $label)]
            #[vmstate(skip)]
            pub label: String,
            #[property(name = "x-bit", bit = 0, default = $bit)]
            #[vmstate(skip)]
            pub bits: u32,
            pub $len: u32,
            #[vmstate(len = $len, max = $max)]
            pub fifo: Vec<u16>,
            #[vmstate(len = $len, max = $max_lit)]
            pub shadow: Vec<u16>,
            #[vmstate(since = $since)]
            pub added: u8,
            #[vmstate(subsection, needed = $needed, gate = $gate)]
            pub timeout: Timeout,
            #[vmstate(subsection, needed = $needed, gate = $gate_lit)]
            pub other: Other,
        }
    };
}

macro_rules! compat {
    ($set:ident, $set_name:literal, $ty:ty, $property:expr, $value:expr) => {
        compat_set! {
            /// One entry from macro parameters.
            pub $set = $set_name [
                { $ty, $property, $value },
            ];
        }
    };
}

/// The base type.
#[derive(Debug, Clone, Device)]
#[device(name = "sys-device", abstract)]
pub struct SysDevice {}

fn pending(u: &Pl011) -> bool {
    u.count > 0
}

uart!(
    Pl011, type = "pl011", vmsd = "pl011", version = 2,
    revision = 1, fifo = 16, timeout = true, label = "uart0", bit = true,
    gate = "x-timeout", gate_lit = "x-other",
    needed = pending, len = count, max = 32, max_lit = 32,
    since = 2, sub = "pl011/timeout", sub2 = "pl011/other", parent = SysDevice
);

compat!(COMPAT_1_0, "compat_1_0", Pl011, "revision", 0);
compat!(COMPAT_0_9, "compat_0_9", Pl011, "x-timeout", false);

fn main() {
    let mut u = Pl011::new_default();
    assert_eq!(u.get("revision").unwrap(), PropertyValue::Uint(1));
    assert_eq!(u.get("fifo-depth").unwrap(), PropertyValue::Uint(16));
    assert_eq!(u.get("x-timeout").unwrap(), PropertyValue::Bool(true));
    assert_eq!(u.get("label").unwrap(), PropertyValue::Str("uart0".into()));
    assert_eq!(u.get("x-bit").unwrap(), PropertyValue::Bool(true));
    let d = Pl011::DESCRIPTION;
    assert_eq!((d.name, d.version_id), ("pl011", 2));
    assert_eq!(d.needed("pl011/timeout").unwrap().gate, Some("x-timeout"));
    assert_eq!(d.needed("pl011/other").unwrap().gate, Some("x-other"));
    u.count = 1;
    u.fifo = vec![7];
    u.shadow = vec![8];
    assert_eq!(u.layout().subsections.len(), 1);
    u.set("x-timeout", &PropertyValue::Bool(false)).unwrap();
    assert_eq!(u.layout().subsections.len(), 0);
    assert_eq!(COMPAT_1_0.entries[0].value, "0");
    assert_eq!(COMPAT_0_9.entries[0].value, "off");
}
