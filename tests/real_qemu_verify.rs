//! `verify` across the ladder of real QEMU releases, 5.2 ↔ 7.2 ↔ 10.0 ↔
//! 11.1: each binary read into a lock (what `compat lock --qemu COMMAND
//! --types ... --read-back` writes), each release verified against the lock
//! of the one before it. What verify says of each device's VMState is held
//! against a real migration, both ways, of a machine with that device on
//! the newest machine type the two releases share, and set beside what
//! QEMU's own `vmstate-static-checker.py` says of the two binaries' dumps of
//! that machine type; the stream each migration wrote is checked against
//! the destination's dump too (`check --from STREAM --to DUMP`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use compat_core::migration::dump_check::{compare_stream, DumpVerdict, VmStateDump};
use compat_core::migration::lock::Lock;
use compat_core::migration::verify::{verify_locks, Direction, Finding, FindingKind};
use compat_core::stream::qemu::QemuStream;
use compat_core::tools::qemu::{read_qemu_with, DeviceValues};
use compat_tests::real_qemu::RealQemu;

/// The device types read into the locks.
const TYPES: [&str; 9] = [
    "pcie-root-port",
    "e1000e",
    "am53c974",
    "virtio-blk-pci",
    "virtio-net-pci",
    "ich9-ahci",
    "hpet",
    "isa-i8259",
    "isa-serial",
];

/// The devices migrated: each type with the `-device` that creates it, or
/// `None` for those every q35 machine has on board (they ride along in
/// every run; the machine alone is theirs).
const MIGRATED: [(&str, Option<&str>); 8] = [
    ("pcie-root-port", Some("pcie-root-port,chassis=1")),
    ("e1000e", Some("e1000e,romfile=")),
    ("am53c974", Some("am53c974")),
    ("virtio-blk-pci", Some("virtio-blk-pci,drive=d0")),
    ("virtio-net-pci", Some("virtio-net-pci,romfile=")),
    ("ich9-ahci", Some("ich9-ahci")),
    ("isa-serial", Some("isa-serial")),
    ("on board", None),
];

/// What verify says of one device's VMState one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Claim {
    /// No finding: it migrates.
    Migrates,
    /// It fails: the destination refuses or reads past what was written.
    Breaks,
    /// It loads, but fields land in others.
    Misreads,
    /// It depends on a tested field the records cannot decide, or on
    /// whether a subsection is sent.
    Depends,
}

/// Verify's claim for device `device` (or, for `None`, every type not
/// migrated on its own) in direction `way` among `findings`.
fn claim(findings: &[Finding], devices: &[&str], way: Direction) -> Claim {
    let state = [
        FindingKind::LayoutChanged,
        FindingKind::VersionChanged,
        FindingKind::SubsectionAdded,
        FindingKind::SubsectionRemoved,
    ];
    findings
        .iter()
        .filter(|f| state.contains(&f.kind))
        .filter(|f| f.direction == way || f.direction == Direction::Both)
        .filter(|f| f.device.as_deref().is_some_and(|d| devices.contains(&d)))
        .map(|f| {
            if f.message.contains("depends on whether") || f.message.contains("if the source sends")
            {
                Claim::Depends
            } else if f.message.contains("MISREADS") {
                Claim::Misreads
            } else {
                Claim::Breaks
            }
        })
        .max()
        .unwrap_or(Claim::Migrates)
}

/// Whether a real load of what the claim describes is what the claim says.
fn agrees(claim: Claim, loaded: bool) -> bool {
    match claim {
        Claim::Migrates | Claim::Misreads => loaded,
        Claim::Breaks => !loaded,
        Claim::Depends => true,
    }
}

/// What the stream check (`check --from STREAM --to DUMP`) says of the
/// sections of types `devices` in `stream`, read by a destination that
/// dumped `dump`.
fn stream_claim(stream: &QemuStream, dump: &VmStateDump, devices: &[&str]) -> Claim {
    compare_stream(stream, dump)
        .devices
        .iter()
        .filter(|d| {
            devices
                .iter()
                .any(|t| d.type_name.ends_with(&format!("({t})")))
        })
        .map(|d| match &d.verdict {
            DumpVerdict::Misreads { .. } => Claim::Misreads,
            // Either branch may be the real one, failing both ways or not.
            DumpVerdict::Depends { .. } | DumpVerdict::Unknown { .. } => Claim::Depends,
            v if v.fails() => Claim::Breaks,
            _ => Claim::Migrates,
        })
        .max()
        .unwrap_or(Claim::Migrates)
}

/// The four locks, read at once.
fn locks(ladder: &[RealQemu]) -> Vec<Lock> {
    let types: Vec<String> = TYPES.map(str::to_owned).to_vec();
    std::thread::scope(|s| {
        let reads: Vec<_> = ladder
            .iter()
            .map(|q| {
                let types = &types;
                s.spawn(move || {
                    let binary = q.binary.to_string_lossy().into_owned();
                    read_qemu_with(&binary, Some(types), DeviceValues::ReadBack)
                        .unwrap_or_else(|e| panic!("QEMU {}: {e}", q.version.full()))
                        .lock
                })
            })
            .collect();
        reads.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

/// The newest `pc-q35` machine type both locks have.
fn newest_shared(old: &Lock, new: &Lock) -> String {
    old.machine_types
        .iter()
        .filter(|m| m.family == "pc-q35" && new.machine(&m.name).is_some())
        .max_by_key(|m| m.parsed_version())
        .map(|m| m.name.clone())
        .expect("a pc-q35 machine type both have")
}

/// The sections QEMU's `vmstate-static-checker.py` reports, reading `from`'s
/// dump as the source and `to`'s as the destination.
fn checker_sections(shared: &Path, from: &Path, to: &Path) -> BTreeSet<String> {
    let out = Command::new("python3")
        .arg(shared.join("qemu-scripts/vmstate-static-checker.py"))
        .arg("-s")
        .arg(from)
        .arg("-d")
        .arg(to)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|l| l.strip_prefix("Section \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn verify_across_the_ladder_each_claim_held_to_a_real_migration() {
    let Some(ladder) = RealQemu::ladder_for_test("verify across the ladder of real QEMU releases")
    else {
        return;
    };
    let Some(shared) = compat_tests::shared("QEMU's vmstate-static-checker.py beside verify")
    else {
        return;
    };
    if !compat_tests::python("QEMU's vmstate-static-checker.py beside verify") {
        return;
    }
    let locks = locks(&ladder);
    let on_board: Vec<&str> = TYPES
        .iter()
        .copied()
        .chain(["pic-common"])
        .filter(|t| !MIGRATED.iter().any(|(m, _)| m == t))
        .collect();
    let mut table = String::new();
    let (mut breaks, mut confirmed) = (0, 0);
    let mut wrong: Vec<String> = Vec::new();
    let mut checker_only: Vec<String> = Vec::new();
    let mut checker_wrong: Vec<String> = Vec::new();
    let mut compat_only: Vec<String> = Vec::new();
    for pair in 0..ladder.len() - 1 {
        let (old_q, new_q) = (&ladder[pair], &ladder[pair + 1]);
        let (old, new) = (&locks[pair], &locks[pair + 1]);
        let findings = verify_locks(new, old);
        let machine = newest_shared(old, new);
        // Under /tmp: the chrooted releases see the host's /tmp only.
        let tmp = |what: &str| {
            PathBuf::from(format!(
                "/tmp/compat-verify-{}-{}-{}-{what}",
                std::process::id(),
                old_q.version.name(),
                new_q.version.name()
            ))
        };
        let dumps = [old_q, new_q].map(|q| {
            let file = tmp(&format!("{}.json", q.version.name()));
            std::fs::write(&file, q.dump_vmstate(&machine).unwrap()).unwrap();
            file
        });
        let ways = [
            (Direction::OldToNew, old_q, new_q, &dumps[0], &dumps[1]),
            (Direction::NewToOld, new_q, old_q, &dumps[1], &dumps[0]),
        ];
        for (way, from, to, from_dump, to_dump) in ways {
            let flagged = checker_sections(&shared, from_dump, to_dump);
            let to_dump = VmStateDump::parse(&std::fs::read_to_string(to_dump).unwrap()).unwrap();
            for (device, option) in MIGRATED {
                let covered: Vec<&str> = match option {
                    Some(_) => vec![device],
                    None => on_board.clone(),
                };
                let said = claim(&findings, &covered, way);
                let mut args: Vec<String> =
                    ["-M", &machine, "-blockdev", "driver=null-co,node-name=d0"]
                        .map(str::to_owned)
                        .to_vec();
                if let Some(option) = option {
                    args.extend(["-device".to_owned(), option.to_owned()]);
                }
                let file = tmp("stream.mig");
                from.save(&args, &file).unwrap();
                let real = to.load(&args, &file);
                let stream = QemuStream::parse(&std::fs::read(&file).unwrap()).unwrap();
                let streamed = stream_claim(&stream, &to_dump, &covered);
                std::fs::remove_file(&file).ok();
                let checker = covered.iter().any(|t| flagged.contains(*t));
                let case = format!(
                    "{device} {} -> {} on {machine}",
                    from.version.name(),
                    to.version.name()
                );
                table.push_str(&format!(
                    "{case}: verify {said:?}, its stream checked {streamed:?}, real {}, QEMU's \
                     checker {}\n",
                    if real.completed { "loads" } else { "fails" },
                    if checker { "reports it" } else { "silent" }
                ));
                if !agrees(streamed, real.completed) {
                    wrong.push(format!("{case} (its stream checked)"));
                }
                if said == Claim::Breaks {
                    breaks += 1;
                    if !real.completed {
                        confirmed += 1;
                    }
                }
                if !agrees(said, real.completed) {
                    wrong.push(case.clone());
                }
                let compat_flags = said != Claim::Migrates;
                if real.completed && checker {
                    checker_wrong.push(case.clone());
                }
                if !real.completed && checker && !compat_flags {
                    checker_only.push(case.clone());
                }
                if !real.completed && compat_flags && !checker {
                    compat_only.push(case);
                }
            }
        }
        for d in &dumps {
            std::fs::remove_file(d).ok();
        }
    }
    eprintln!(
        "{table}verify: {breaks} breaks claimed, {confirmed} confirmed by a real migration; \
         wrong: {wrong:?}; failures only QEMU's checker reports: {checker_only:?}; only \
         verify: {compat_only:?}; QEMU's checker reports {} that load: {checker_wrong:?}",
        checker_wrong.len()
    );
    // Every break verify claims is a real failure, and everything it says
    // migrates loads; so for each stream checked.
    assert!(wrong.is_empty(), "{table}");
    assert_eq!(confirmed, breaks, "{table}");
    assert!(confirmed >= 2, "{table}");
    // No failure QEMU's checker reports that verify does not; it reports
    // renames verify knows migrate (e1000e's, hpet's) and versions of
    // nested structs a destination reads at its own (esp).
    assert!(checker_only.is_empty(), "{table}");
    assert!(!checker_wrong.is_empty(), "{table}");
}
