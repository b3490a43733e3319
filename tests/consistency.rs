//! One question, one answer: for mutations of a device between two
//! releases, the static checker, the pre-flight of a real save → load,
//! and `verify` against the older release's lock give the same verdict in
//! each direction and name the same field or property as the cause.
//!
//! Each case is a UART (`pl011`) of release 1.0 and a changed one of
//! release 2.0, on machine type `arm-1.0`, which both releases know.

use compat_core::migration::check::{check, Side};
use compat_core::migration::lock::Lock;
use compat_core::migration::migrate_with_preflight;
use compat_core::migration::verify::{verify, Direction, Finding};
use compat_core::{
    compat_set, Board, Device, MachineConfig, MachineFamily, RealizeError, Release, ReleaseBuilder,
    VMState, Version, VersionStep,
};

/// Declares one version of the UART: its `revision` default, its VMState
/// version, its fields (a must-match FIFO depth set from `depth` at
/// realize), and the type's own name.
macro_rules! uart {
    (
        $name:ident, type = $ty:literal, revision = $rev:expr, version = $version:expr,
        depth = $depth:expr, { $($fields:tt)* }
    ) => {
        #[derive(Debug, Clone, Device, VMState)]
        #[device(name = $ty, vmstate, realize = $name::realize)]
        #[vmstate(name = "pl011", version = $version, minimum_version = 1)]
        pub struct $name {
            /// The PrimeCell revision the guest reads.
            #[property(name = "revision", default = $rev)]
            #[vmstate(skip)]
            pub revision: u8,
            #[vmstate(must_match)]
            pub fifo_depth: u32,
            $($fields)*
        }

        impl $name {
            fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
                self.fifo_depth = $depth;
                Ok(())
            }
        }
    };
}

uart!(Base, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub lcr: u32,
});
// The revision's default changed.
uart!(Revised, type = "pl011", revision = 3, version = 1, depth = 16, {
    pub flags: u32,
    pub lcr: u32,
});
// A field added with no version.
uart!(Added, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub lcr: u32,
    pub fcr: u32,
});
// A field added at version 2.
uart!(AddedSince, type = "pl011", revision = 1, version = 2, depth = 16, {
    pub flags: u32,
    pub lcr: u32,
    #[vmstate(since = 2)]
    pub fcr: u32,
});
// The FIFO deepened with nothing to keep the old depth.
uart!(Deeper, type = "pl011", revision = 1, version = 1, depth = 32, {
    pub flags: u32,
    pub lcr: u32,
});
// Two fields of one size swapped: as many bytes, other meanings.
uart!(Swapped, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub lcr: u32,
    pub flags: u32,
});
// A field grown from 32 to 64 bits.
uart!(Wider, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub lcr: u64,
});

// A field renamed: the same bytes, read into the same state.
uart!(Renamed, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub line_control: u32,
});

// A switch added, on by default: new behaviour, no new state.
uart!(Switched, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub lcr: u32,
    /// Raise the receive interrupt at half-full.
    #[property(name = "x-half-full", default = true)]
    #[vmstate(skip)]
    pub half_full: bool,
});

/// The receive timeout's state, sent while it is pending.
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "pl011/timeout", version = 1)]
pub struct Timeout {
    pub ticks: u32,
}

// A subsection added behind a bool property (on by default).
uart!(Gated, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub lcr: u32,
    /// Migrate the receive timeout.
    #[property(name = "x-timeout", default = true)]
    #[vmstate(skip)]
    pub x_timeout: bool,
    #[vmstate(subsection, needed = Gated::pending, gate = "x-timeout")]
    pub timeout: Timeout,
});
// A subsection added with no property to turn it off.
uart!(Ungated, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub lcr: u32,
    #[vmstate(subsection, needed = Ungated::pending)]
    pub timeout: Timeout,
});

impl Gated {
    /// A guest that just received a byte: the timeout is pending.
    fn pending(&self) -> bool {
        true
    }
}

impl Ungated {
    fn pending(&self) -> bool {
        true
    }
}

/// The line control registers, a nested struct of their own.
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "pl011/line", version = 1)]
pub struct Line {
    pub lcr: u32,
}

/// The line control registers with the receive timeout below them, in a
/// subsection of the nested struct.
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "pl011/line", version = 1)]
pub struct LineTimed {
    pub lcr: u32,
    #[vmstate(subsection, needed = LineTimed::pending)]
    pub timeout: LineTimeout,
}

/// The receive timeout's state, below the line registers.
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "pl011/line/timeout", version = 1)]
pub struct LineTimeout {
    pub ticks: u32,
}

impl LineTimed {
    fn pending(&self) -> bool {
        true
    }
}

/// The line control register grown to 64 bits inside the nested struct.
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "pl011/line", version = 1)]
pub struct LineWide {
    pub lcr: u64,
}

// The registers in a nested struct: the base of the nested cases.
uart!(Nested, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub line: Line,
});
// A subsection added to the nested struct, sent whenever its test holds.
uart!(NestedTimed, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub line: LineTimed,
});
// A field of the nested struct grown.
uart!(NestedWide, type = "pl011", revision = 1, version = 1, depth = 16, {
    pub flags: u32,
    pub line: LineWide,
});

/// The UART's state moved into a parent type that other PrimeCell UARTs
/// share: `pl011` becomes a subtype without a VMState of its own.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "primecell-uart", abstract, vmstate, realize = UartCore::realize)]
#[vmstate(name = "pl011", version = 1, minimum_version = 1)]
pub struct UartCore {
    /// The PrimeCell revision the guest reads.
    #[property(name = "revision", default = 1)]
    #[vmstate(skip)]
    pub revision: u8,
    #[vmstate(must_match)]
    pub fifo_depth: u32,
    pub flags: u32,
    pub lcr: u32,
}

impl UartCore {
    fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
        self.fifo_depth = 16;
        Ok(())
    }
}

/// `pl011` as a subtype of [`UartCore`].
#[derive(Debug, Clone, Device)]
#[device(name = "pl011", parent = UartCore)]
pub struct Subtype {
    #[device(parent)]
    pub core: UartCore,
}

compat_set! {
    /// 2.0's half-full interrupt, off for `arm-1.0`.
    pub HALF_FULL_1_0 = "pl011_compat_1_0" [
        { Switched, "x-half-full", "off" },
    ];
}

compat_set! {
    /// Release 2.0's set for `arm-1.0`, forgetting the revision.
    pub FORGOT_1_0 = "pl011_compat_1_0" [];
}

compat_set! {
    /// 2.0's receive timeout, off for `arm-1.0`.
    pub TIMEOUT_1_0 = "pl011_compat_1_0" [
        { Gated, "x-timeout", "off" },
    ];
}

compat_set! {
    /// 2.0's revision, undone for `arm-1.0`.
    pub REVISION_1_0 = "pl011_compat_1_0" [
        { Revised, "revision", "1" },
    ];
}

fn release(
    name: &str,
    build: impl FnOnce(ReleaseBuilder) -> ReleaseBuilder,
    step: VersionStep,
) -> Release {
    let mut family = MachineFamily::new("arm", "a board with a UART")
        .default_machine()
        .onboard("pl011,id=uart0");
    family = family.version(Version::new(1, 0), step);
    if name == "2.0" {
        family = family.version(Version::new(2, 0), VersionStep::default());
    }
    build(ReleaseBuilder::new(name))
        .family(family)
        .build()
        .unwrap()
}

fn old() -> Release {
    old_with::<Base>()
}

fn old_with<T: Device>() -> Release {
    release("1.0", |b| b.device::<T>(), VersionStep::default())
}

fn new<T: Device>(step: VersionStep) -> Release {
    release("2.0", |b| b.device::<T>(), step)
}

fn config() -> MachineConfig {
    MachineConfig {
        machine: "arm-1.0".to_owned(),
        ..MachineConfig::default()
    }
}

/// What each of the three says of one direction.
#[derive(Debug)]
struct Answers {
    check: Result<(), String>,
    preflight: Result<(), String>,
    verify: Vec<String>,
}

fn answers(
    src: &Release,
    dst: &Release,
    newer: Side,
    findings: &[Finding],
    way: Direction,
) -> Answers {
    let c = config();
    let p = check(src, &c, dst, &c, Some(newer));
    Answers {
        check: match p.works {
            true => Ok(()),
            false => Err(p.to_string()),
        },
        preflight: migrate_with_preflight(src, &c, dst, &c).map_err(|e| e.to_string()),
        verify: findings
            .iter()
            .filter(|f| f.direction == way || f.direction == Direction::Both)
            .map(ToString::to_string)
            .collect(),
    }
}

/// The three agree on both directions between `old` and `new`: each
/// fails naming `cause` where `expect` says it fails, and all work
/// elsewhere. Returns how many answers were compared.
fn agree(
    case: &str,
    old: &Release,
    new: &Release,
    expect: [(Direction, Option<&str>); 2],
) -> usize {
    let lock = Lock::from_json(&Lock::of(old).to_json()).unwrap();
    let findings = verify(new, &lock);
    let mut compared = 0;
    for (way, cause) in expect {
        let a = match way {
            Direction::OldToNew => answers(old, new, Side::Destination, &findings, way),
            _ => answers(new, old, Side::Source, &findings, way),
        };
        let verdicts = [
            ("check", a.check.clone().err()),
            ("pre-flight", a.preflight.clone().err()),
            (
                "verify",
                (!a.verify.is_empty()).then(|| a.verify.join("\n")),
            ),
        ];
        for (who, said) in verdicts {
            compared += 1;
            match (cause, said) {
                (None, None) => {}
                (Some(cause), Some(text)) => assert!(
                    text.contains(cause),
                    "{case} {way}: {who} fails without naming '{cause}': {text}"
                ),
                (None, Some(text)) => panic!("{case} {way}: {who} fails, the others work: {text}"),
                (Some(cause), None) => {
                    panic!("{case} {way}: {who} works, expected a failure naming '{cause}': {a:?}")
                }
            }
        }
    }
    compared
}

#[test]
fn checker_preflight_and_verify_agree_on_every_mutation() {
    let forgot = || VersionStep::compat([FORGOT_1_0]);
    // Each case: release 2.0, and what fails old -> new and new -> old.
    let cases: Vec<(&str, Release, [Option<&str>; 2])> = vec![
        ("the same device", new::<Base>(forgot()), [None, None]),
        (
            "a default changed without its compat entry",
            new::<Revised>(forgot()),
            [Some("revision"), Some("revision")],
        ),
        (
            "a default changed with its compat entry",
            new::<Revised>(VersionStep::compat([REVISION_1_0])),
            [None, None],
        ),
        (
            "a field added without a version",
            new::<Added>(forgot()),
            [Some("fcr"), Some("fcr")],
        ),
        (
            "a field added at a new version",
            new::<AddedSince>(forgot()),
            [None, Some("version")],
        ),
        (
            "a must-match value changed",
            new::<Deeper>(forgot()),
            [Some("fifo_depth"), Some("fifo_depth")],
        ),
        (
            "two fields swapped",
            new::<Swapped>(forgot()),
            [Some("flags"), Some("flags")],
        ),
        (
            "a field grown",
            new::<Wider>(forgot()),
            [Some("lcr"), Some("lcr")],
        ),
        ("a field renamed", new::<Renamed>(forgot()), [None, None]),
        (
            "a switch added without its compat entry",
            new::<Switched>(forgot()),
            [Some("x-half-full"), Some("x-half-full")],
        ),
        (
            "a switch added with its compat entry",
            new::<Switched>(VersionStep::compat([HALF_FULL_1_0])),
            [None, None],
        ),
        ("a subtype", new::<Subtype>(forgot()), [None, None]),
        (
            "a gated subsection without its compat entry",
            new::<Gated>(forgot()),
            [Some("x-timeout"), Some("timeout")],
        ),
        (
            "a gated subsection with its compat entry",
            new::<Gated>(VersionStep::compat([TIMEOUT_1_0])),
            [None, None],
        ),
        (
            "an ungated subsection",
            new::<Ungated>(forgot()),
            [None, Some("timeout")],
        ),
    ];
    // The same, from a release whose registers sit in a nested struct.
    let nested_cases: Vec<(&str, Release, [Option<&str>; 2])> = vec![
        (
            "the same nested struct",
            new::<Nested>(forgot()),
            [None, None],
        ),
        (
            "a subsection added to a nested struct",
            new::<NestedTimed>(forgot()),
            [None, Some("pl011/line/timeout")],
        ),
        (
            "a field of a nested struct grown",
            new::<NestedWide>(forgot()),
            [Some("line.lcr"), Some("line.lcr")],
        ),
    ];
    let (base, nested) = (old(), old_with::<Nested>());
    let every = cases
        .iter()
        .map(|c| (&base, c))
        .chain(nested_cases.iter().map(|c| (&nested, c)));
    let (mut count, mut compared) = (0, 0);
    for (old, (case, release, [up, down])) in every {
        count += 1;
        compared += agree(
            case,
            old,
            release,
            [(Direction::OldToNew, *up), (Direction::NewToOld, *down)],
        );
    }
    eprintln!("{count} cases, {compared} answers compared: check, pre-flight and verify agree");
}

/// The changed default: the checker fails and proposes the compat entry
/// that `verify` names, in the set of the newer release's machine type.
#[test]
fn a_changed_default_is_refused_with_its_compat_entry() {
    let (old, new) = (old(), new::<Revised>(VersionStep::compat([FORGOT_1_0])));
    let c = config();
    let entry = "add {pl011, revision, 1} to pl011_compat_1_0 in release 2.0";
    let p = check(&old, &c, &new, &c, Some(Side::Destination));
    assert!(!p.works, "{p}");
    assert_eq!(p.device.as_deref(), Some("uart0"));
    assert!(p.fixes.contains(&entry.to_owned()), "{p}");
    let lock = Lock::from_json(&Lock::of(&old).to_json()).unwrap();
    let findings = verify(&new, &lock);
    assert!(
        findings[0].fixes.contains(&entry.to_owned()),
        "{}",
        findings[0]
    );
}

/// Every cell of the example matrix (every release to every release, on
/// every machine type, with the catalog's configuration): the checker's
/// verdict, a real save -> load with the pre-flight, and a plain real save
/// -> load agree — each also from a source in its busiest state (every
/// subsection its gates allow).
#[test]
fn checker_and_real_migrations_agree_on_every_cell_of_the_example_matrix() {
    let catalog = compat_examples::catalog::catalog();
    let mut cells = 0;
    for machine in catalog.machine_names() {
        let plain = catalog.machine_matrix_with(&machine, false);
        let preflight = catalog.machine_matrix_with(&machine, true);
        for (p, q) in plain.cells.iter().zip(&preflight.cells) {
            assert_eq!((&p.src, &p.dst), (&q.src, &q.dst));
            let src = catalog.release(&p.src).unwrap();
            let dst = catalog.release(&p.dst).unwrap();
            let predicted = catalog.predict(src, &plain.config, dst, &plain.config);
            assert_eq!(
                (predicted.works, q.outcome.is_ok()),
                (p.outcome.is_ok(), p.outcome.is_ok()),
                "{machine} {} -> {}: check {predicted}, pre-flight {:?}, plain {:?}",
                p.src,
                p.dst,
                q.outcome,
                p.outcome
            );
            cells += 1;
        }
    }
    assert!(cells > 1000, "{cells} cells");
    eprintln!("{cells} cells: check, pre-flight and plain migration agree");
}

/// Where a cell of the example matrix fails between two releases, `verify`
/// of the newer against the older's lock has a finding that names a device
/// of the cell's configuration, or its machine type: the lock-based answer
/// sees what the real migration hits. (The other way round needs no cell:
/// verify starts every device type on every machine type, the matrix one
/// configuration.)
#[test]
fn verify_sees_every_failing_cell_of_the_example_matrix() {
    let catalog = compat_examples::catalog::catalog();
    let releases = catalog.releases();
    let locks: Vec<Lock> = releases
        .iter()
        .map(|r| Lock::from_json(&Lock::of(r).to_json()).unwrap())
        .collect();
    let mut found = std::collections::BTreeMap::new();
    let mut failing = 0;
    let mut seen = 0;
    for machine in catalog.machine_names() {
        let table = catalog.machine_matrix_with(&machine, true);
        for cell in table.cells.iter().filter(|c| c.outcome.is_err()) {
            let i = releases.iter().position(|r| r.name() == cell.src).unwrap();
            let j = releases.iter().position(|r| r.name() == cell.dst).unwrap();
            let (older, newer) = (i.min(j), i.max(j));
            if i == j || releases[older].machine(&machine).is_err() {
                // Within a release, or a machine type newer than the older
                // release: nothing it promised.
                continue;
            }
            failing += 1;
            let findings = found
                .entry((newer, older))
                .or_insert_with(|| verify(&releases[newer], &locks[older]));
            let types: Vec<&str> = table
                .config
                .devices
                .iter()
                .map(|d| d.driver.as_str())
                .collect();
            let named = findings.iter().any(|f| {
                f.machines.contains(&machine)
                    || f.device.as_deref().is_some_and(|d| types.contains(&d))
            });
            assert!(
                named,
                "{machine} {} -> {}: {:?}; verify {} against {}:\n{}",
                cell.src,
                cell.dst,
                cell.outcome,
                releases[newer].name(),
                releases[older].name(),
                findings
                    .iter()
                    .map(|f| format!("{f}\n"))
                    .collect::<String>()
            );
            seen += 1;
        }
    }
    eprintln!("{failing} failing cells between two releases; verify names each ({seen})");
}
