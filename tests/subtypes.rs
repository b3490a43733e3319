//! Subtypes migrate as QOM subclasses do: one without a VMState of its own
//! migrates its parent's state under the parent's section name (as real
//! QEMU's `dc390` has its parent `am53c974`'s description), after the
//! parent's `realize` ran before its own; one with its own VMState replaces
//! the parent's; and a type that would drop its ancestors' state is refused
//! when registered.

use std::any::TypeId;

use compat_core::device::{RegistryError, SetPropertyError, DEVICE};
use compat_core::{
    parse_device, Board, Device, DeviceTypeInfo, MachineConfig, MachineFamily, PropertyValue,
    RealizeError, Release, ReleaseBuilder, TypeRegistry, VMState, Version, VersionStep,
};

const PL011_ID: [u8; 8] = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
const LUMINARY_ID: [u8; 8] = [0x11, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1];

/// The ARM PrimeCell UART, with a little of its state.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "pl011", vmstate, realize = Pl011::realize)]
#[vmstate(name = "pl011", version = 2, minimum_version = 2)]
pub struct Pl011 {
    /// Whether the FIFO is migrated on.
    #[property(name = "migrate-clk", default = true)]
    #[vmstate(skip)]
    pub migrate_clk: bool,
    pub flags: u32,
    pub lcr: u32,
    pub read_count: i32,
    /// The identification registers: the class's, set at realize.
    #[vmstate(skip)]
    pub id: [u8; 8],
}

impl Pl011 {
    fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
        self.id = PL011_ID;
        self.flags = 0x90;
        Ok(())
    }
}

/// Luminary's variant: other identification registers, the same state.
#[derive(Debug, Clone, Device)]
#[device(name = "pl011_luminary", parent = Pl011, realize = Pl011Luminary::realize)]
pub struct Pl011Luminary {
    #[device(parent)]
    pub parent: Pl011,
}

impl Pl011Luminary {
    fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
        // The parent's realize has run: its registers are there to change.
        if self.parent.id != PL011_ID {
            return Err(RealizeError::new("the parent was not realized first"));
        }
        self.parent.id = LUMINARY_ID;
        Ok(())
    }
}

/// A subtype that declares a VMState of its own: it replaces the parent's.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "pl011-own", parent = Pl011, vmstate)]
#[vmstate(name = "pl011-own", version = 1)]
pub struct Pl011Own {
    #[device(parent)]
    #[vmstate(skip)]
    pub parent: Pl011,
    pub extra: u16,
}

fn release() -> Release {
    ReleaseBuilder::new("1.0")
        .device::<Pl011>()
        .device::<Pl011Luminary>()
        .device::<Pl011Own>()
        .family(
            MachineFamily::new("arm", "a board")
                .default_machine()
                .version(Version::new(1, 0), VersionStep::default()),
        )
        .build()
        .unwrap()
}

fn with(device: &str) -> MachineConfig {
    MachineConfig {
        machine: "arm-1.0".to_owned(),
        devices: vec![parse_device(device).unwrap()],
        ..MachineConfig::default()
    }
}

#[test]
fn a_subtype_without_state_of_its_own_migrates_its_parents_section_byte_for_byte() {
    let release = release();
    assert_eq!(
        Pl011Luminary::TYPE.vmstate.map(|v| v.name),
        Some("pl011"),
        "the subtype's description is its parent's"
    );
    let mut luminary = release
        .instantiate_config(&with("pl011_luminary,id=u0"))
        .unwrap();
    let d = luminary
        .devices
        .iter_mut()
        .find(|d| d.label == "u0")
        .unwrap();
    assert_eq!(
        d.section.as_ref().map(|s| s.key()),
        Some("pl011".to_owned()),
        "the parent's section name"
    );
    let lum = d.object.downcast_mut::<Pl011Luminary>().unwrap();
    // Realized in order: the parent's realize set its registers, then the
    // subtype's changed the identification.
    assert_eq!((lum.parent.flags, lum.parent.id), (0x90, LUMINARY_ID));
    lum.parent.lcr = 0x70;
    lum.parent.read_count = -3;
    let state = lum.parent.clone();
    let from_luminary = luminary.save().unwrap();

    // A plain pl011 holding the same state writes the same stream.
    let mut plain = release.instantiate_config(&with("pl011,id=u0")).unwrap();
    let p = plain.devices.iter_mut().find(|d| d.label == "u0").unwrap();
    *p.object.downcast_mut::<Pl011>().unwrap() = state.clone();
    assert_eq!(plain.save().unwrap(), from_luminary);

    // And it loads into a luminary UART as into a plain one.
    let mut dest = release
        .instantiate_config(&with("pl011_luminary,id=u0"))
        .unwrap();
    dest.load(&from_luminary).unwrap();
    let d = dest.devices.iter_mut().find(|d| d.label == "u0").unwrap();
    let got = &d.object.downcast_mut::<Pl011Luminary>().unwrap().parent;
    assert_eq!((got.flags, got.lcr, got.read_count), (0x90, 0x70, -3));
    assert_eq!(got.id, LUMINARY_ID, "not migrated: the class's own");
    let mut dest = release.instantiate_config(&with("pl011,id=u0")).unwrap();
    dest.load(&from_luminary).unwrap();
}

#[test]
fn a_subtype_with_its_own_vmstate_replaces_its_parents() {
    let release = release();
    let mut m = release
        .instantiate_config(&with("pl011-own,id=u0"))
        .unwrap();
    let d = m.devices.iter_mut().find(|d| d.label == "u0").unwrap();
    assert_eq!(
        d.section.as_ref().map(|s| s.key()),
        Some("pl011-own".to_owned())
    );
    // Its parent was realized all the same.
    let own = d.object.downcast_mut::<Pl011Own>().unwrap();
    assert_eq!(own.parent.id, PL011_ID);
    let bytes = m.save().unwrap();
    let mut plain = release.instantiate_config(&with("pl011,id=u0")).unwrap();
    let err = plain.load(&bytes).unwrap_err().to_string();
    assert!(err.contains("pl011-own"), "{err}");
}

/// A hand-written device type `$ty` under `pl011`, holding nothing, with
/// the VMState description `$vmstate`.
macro_rules! hand_written {
    ($ty:ident, $name:literal, $vmstate:expr) => {
        struct $ty;

        impl Device for $ty {
            const TYPE: &'static DeviceTypeInfo = &DeviceTypeInfo {
                name: $name,
                parent: Some(Pl011::TYPE),
                is_abstract: false,
                description: "a hand-written subtype",
                rust_type: TypeId::of::<$ty>,
                instantiate: Some(|| Box::new($ty)),
                vmstate: $vmstate,
                ..*DEVICE
            };
            fn new_default() -> Self {
                $ty
            }
            fn property_value(&self, _: &str) -> Option<PropertyValue> {
                None
            }
            fn set_property_value(
                &mut self,
                _: &str,
                _: &PropertyValue,
            ) -> Result<(), SetPropertyError> {
                Err(SetPropertyError::NotFound)
            }
        }
    };
}

// A subtype that hands out no state and describes none: its parent's is lost.
hand_written!(Lost, "pl011-lost", None);
// A subtype whose description inherits `pl011`'s state while its instances
// hand out none.
hand_written!(Mute, "pl011-mute", Pl011::TYPE.vmstate);

#[test]
fn a_type_that_would_drop_its_ancestors_state_is_refused() {
    let mut registry = TypeRegistry::new();
    let err = registry.register::<Lost>().unwrap_err();
    assert!(matches!(err, RegistryError::StateLost { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "device type 'pl011-lost' migrates no state, but its ancestor 'pl011' does (VMState \
         'pl011'): a subtype migrates its parent's state (hold the parent in a \
         #[device(parent)] field) or its own (#[device(vmstate)])"
    );
    let err = registry.register::<Mute>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "device type 'pl011-mute' describes a VMState, but its instances hand out none: they \
         must agree (a hand-written Device implementation's migratable() and TYPE.vmstate)"
    );
    // Neither was registered; the derived subtypes are.
    assert!(registry.get("pl011-lost").is_none());
    registry.register::<Pl011Luminary>().unwrap();
    let err = ReleaseBuilder::new("x")
        .device::<Lost>()
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("pl011-lost"), "{err}");
}
