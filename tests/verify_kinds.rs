//! Every kind of finding verify makes, each from a small release that
//! breaks one promise of the release before it, and each confirmed by a
//! real save and load where the break is in the stream.

use compat_core::migration::lock::Lock;
use compat_core::migration::migrate;
use compat_core::migration::verify::{verify, Direction, Finding, FindingKind};
use compat_core::{
    Board, Device, MachineConfig, MachineFamily, RealizeError, Release, ReleaseBuilder, VMState,
    Version, VersionStep,
};

/// Declares one version of the `vk-timer` device: a must-match rate the
/// device realizes with, a counter, and `$extra` fields.
macro_rules! timer {
    ($(#[$doc:meta])* $name:ident, version = $v:literal, minimum = $m:literal,
     rate = $rate:literal, count: $count:ty $(, $extra:ident: $ty:ty)*) => {
        $(#[$doc])*
        #[derive(Clone, Device, VMState)]
        #[device(name = "vk-timer", vmstate, realize = $name::realize)]
        #[vmstate(name = "vk-timer", version = $v, minimum_version = $m)]
        struct $name {
            #[vmstate(must_match)]
            ticks_per_second: u32,
            count: $count,
            $($extra: $ty,)*
        }

        impl $name {
            fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
                self.ticks_per_second = $rate;
                self.count = 7;
                Ok(())
            }
        }
    };
}

timer!(
    /// The timer as 1.0 shipped it.
    Timer10, version = 2, minimum = 1, rate = 1000, count: u16
);
timer!(
    /// A field added with no version and no subsection.
    TimerAdded, version = 2, minimum = 1, rate = 1000, count: u16, reload: u16
);
timer!(
    /// A field resized.
    TimerResized, version = 2, minimum = 1, rate = 1000, count: u32
);
timer!(
    /// The minimum version raised past what 1.0 writes.
    TimerMinimum, version = 3, minimum = 3, rate = 1000, count: u16
);
timer!(
    /// A must-match reset value changed, with no property behind it.
    TimerFaster, version = 2, minimum = 1, rate = 4000, count: u16
);

/// A device type users add with `-device`.
#[derive(Clone, Device, VMState)]
#[device(name = "vk-rng", vmstate)]
#[vmstate(name = "vk-rng", version = 1)]
struct Rng {
    seed: u32,
}

fn family() -> MachineFamily {
    MachineFamily::new("vk", "a board with a timer")
        .default_machine()
        .onboard("vk-timer,id=timer0")
        .version(Version::new(1, 0), VersionStep::default())
}

fn release_1_0() -> ReleaseBuilder {
    ReleaseBuilder::new("1.0")
        .device::<Timer10>()
        .device::<Rng>()
        .family(family())
}

/// 2.0: 1.0 plus machine type `vk-2.0` and the timer `T`.
fn release_2_0<T: Device>() -> Release {
    release_1_0()
        .named("2.0")
        .replace_device::<T>()
        .edit_family("vk", |f| {
            f.version(Version::new(2, 0), VersionStep::default())
        })
        .build()
        .unwrap()
}

fn lock_1_0() -> Lock {
    Lock::from_json(&Lock::of(&release_1_0().build().unwrap()).to_json()).unwrap()
}

fn on_1_0() -> MachineConfig {
    MachineConfig {
        machine: "vk-1.0".into(),
        ..MachineConfig::default()
    }
}

fn only(findings: Vec<Finding>, kind: FindingKind) -> Finding {
    let report: String = findings.iter().map(|f| format!("{f}\n")).collect();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0].kind, kind, "{report}");
    findings.into_iter().next().unwrap()
}

/// Whether a real migration from `src` to `dst` on vk-1.0 works: both
/// sides start, and only the load may refuse.
fn works(src: &Release, dst: &Release) -> bool {
    match migrate(src, &on_1_0(), dst, &on_1_0()) {
        Ok(()) => true,
        Err(e) => {
            assert!(e.load_error().is_some(), "not a load that failed: {e}");
            false
        }
    }
}

#[test]
fn the_same_release_again_has_nothing_to_report() {
    let again = release_2_0::<Timer10>();
    assert!(verify(&again, &lock_1_0()).is_empty());
}

#[test]
fn a_field_added_with_no_version_or_subsection() {
    let new = release_2_0::<TimerAdded>();
    let old = release_1_0().build().unwrap();
    assert!(!works(&old, &new) && !works(&new, &old));
    let f = only(verify(&new, &lock_1_0()), FindingKind::LayoutChanged);
    assert_eq!(f.device.as_deref(), Some("vk-timer"));
    assert!(f.message.contains("'reload'"), "{f}");
}

#[test]
fn a_field_resized() {
    let new = release_2_0::<TimerResized>();
    let old = release_1_0().build().unwrap();
    assert!(!works(&old, &new));
    let f = only(verify(&new, &lock_1_0()), FindingKind::LayoutChanged);
    assert!(
        f.message.contains(
            "field 'count' (uint16, 2 bytes) of release 1.0 is read as 'count' (uint32, 4 bytes)"
        ),
        "{f}"
    );
}

#[test]
fn a_minimum_version_past_what_the_old_release_writes() {
    let new = release_2_0::<TimerMinimum>();
    let old = release_1_0().build().unwrap();
    assert!(!works(&old, &new) && !works(&new, &old));
    let findings = verify(&new, &lock_1_0());
    let kinds: Vec<_> = findings.iter().map(|f| (f.kind, f.direction)).collect();
    assert!(
        kinds.contains(&(FindingKind::VersionChanged, Direction::OldToNew))
            && kinds.contains(&(FindingKind::VersionChanged, Direction::NewToOld)),
        "{findings:?}"
    );
    let f = findings
        .iter()
        .find(|f| f.direction == Direction::OldToNew)
        .unwrap();
    assert_eq!(
        f.fixes[0],
        "keep minimum_version at 2 or below, reading what release 1.0 writes"
    );
}

#[test]
fn a_must_match_reset_value_changed() {
    let new = release_2_0::<TimerFaster>();
    let old = release_1_0().build().unwrap();
    assert!(!works(&old, &new) && !works(&new, &old));
    let f = only(verify(&new, &lock_1_0()), FindingKind::MustMatchChanged);
    assert_eq!(f.machines, ["vk-1.0"]);
    assert_eq!(f.direction, Direction::Both);
}

#[test]
fn a_machine_type_or_a_device_type_removed() {
    // 2.0 without machine type vk-1.0: a new family replaces it.
    let dropped = ReleaseBuilder::new("2.0")
        .device::<Timer10>()
        .device::<Rng>()
        .family(
            MachineFamily::new("vk2", "the next board")
                .default_machine()
                .onboard("vk-timer,id=timer0")
                .version(Version::new(2, 0), VersionStep::default()),
        )
        .build()
        .unwrap();
    let findings = verify(&dropped, &lock_1_0());
    assert!(
        findings
            .iter()
            .any(|f| f.kind == FindingKind::MachineRemoved && f.machines == ["vk-1.0"]),
        "{findings:?}"
    );
    // 2.0 without vk-rng.
    let no_rng = ReleaseBuilder::new("2.0")
        .device::<Timer10>()
        .family(family())
        .build()
        .unwrap();
    let f = only(verify(&no_rng, &lock_1_0()), FindingKind::DeviceRemoved);
    assert_eq!(f.device.as_deref(), Some("vk-rng"));
    assert_eq!(
        f.fixes[0],
        "keep device type 'vk-rng' (a rename needs the old name kept as well)"
    );
}

/// A mask whose value a running guest carries from host to host.
#[derive(Clone, Device, VMState)]
#[device(name = "vk-mask", vmstate)]
#[vmstate(name = "vk-mask", version = 1)]
struct MaskSticky {
    #[property(name = "x-mask", default = false, sticky)]
    #[vmstate(skip)]
    mask: bool,
    level: u8,
}

/// The same mask, no longer declared sticky.
#[derive(Clone, Device, VMState)]
#[device(name = "vk-mask", vmstate)]
#[vmstate(name = "vk-mask", version = 1)]
struct MaskPlain {
    #[property(name = "x-mask", default = false)]
    #[vmstate(skip)]
    mask: bool,
    level: u8,
}

fn mask_release<T: Device>(name: &str) -> Release {
    ReleaseBuilder::new(name)
        .device::<T>()
        .family(
            MachineFamily::new("vm", "a board with a mask")
                .default_machine()
                .onboard("vk-mask,id=mask0")
                .version(Version::new(1, 0), VersionStep::default()),
        )
        .build()
        .unwrap()
}

#[test]
fn a_sticky_property_no_longer_sticky() {
    use compat_core::migration::incoming::{incoming, StickyPolicy};
    let (old, dropped, kept) = (
        mask_release::<MaskSticky>("1.0"),
        mask_release::<MaskPlain>("2.0"),
        mask_release::<MaskSticky>("2.0"),
    );
    let lock = Lock::from_json(&Lock::of(&old).to_json()).unwrap();
    let f = only(verify(&dropped, &lock), FindingKind::StickyDropped);
    assert_eq!(
        (f.device.as_deref(), f.item.as_deref()),
        (Some("vk-mask"), Some("x-mask"))
    );
    assert_eq!(
        f.fixes[0],
        "declare 'x-mask' of 'vk-mask' #[property(..., sticky)] again"
    );
    assert!(verify(&kept, &lock).is_empty());

    // A guest on 1.0 that carries the mask: the release that keeps it
    // sticky takes it, the one that dropped it refuses before any state.
    let marked = MachineConfig {
        machine: "vm-1.0".into(),
        globals: vec![compat_core::parse_global("vk-mask.x-mask=on").unwrap()],
        ..MachineConfig::default()
    };
    let plain = MachineConfig {
        machine: "vm-1.0".into(),
        ..MachineConfig::default()
    };
    let bytes = old
        .instantiate_config(&marked)
        .unwrap()
        .save_with_preflight()
        .unwrap();
    let arrived = incoming(&kept, &plain, &bytes, &StickyPolicy::Every)
        .expect("the sticky release takes the mask");
    assert_eq!(arrived.adopted.len(), 1);
    let refused = incoming(&dropped, &plain, &bytes, &StickyPolicy::Every).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("property 'x-mask': source on, destination off"),
        "{refused}"
    );
}
