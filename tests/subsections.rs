//! What a stream carries only sometimes: subsections sent while a `needed`
//! test holds, and variable arrays whose length a property sets. The
//! release check (verify) and the static checker must both see these, and
//! agree with a real save and load.

use compat_core::migration::check::{check, Side};
use compat_core::migration::lock::Lock;
use compat_core::migration::migrate;
use compat_core::migration::verify::{verify, FindingKind};
use compat_core::{
    compat_set, parse_device, Board, Device, MachineConfig, MachineFamily, RealizeError, Release,
    ReleaseBuilder, VMState, Version, VersionStep,
};

/// Release 1.0's serial port.
#[derive(Clone, Device, VMState)]
#[device(name = "sb-uart", vmstate)]
#[vmstate(name = "sb-uart", version = 1)]
struct Uart10 {
    lsr: u8,
}

/// The receive timeout 2.0 migrates.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "sb-uart/timeout", version = 1)]
struct Timeout {
    pending: u32,
}

/// Release 2.0's serial port: the timeout travels in a subsection, sent
/// only while `x-migrate-timeout` is on.
#[derive(Clone, Device, VMState)]
#[device(name = "sb-uart", vmstate)]
#[vmstate(name = "sb-uart", version = 1)]
struct Uart20 {
    #[property(name = "x-migrate-timeout", default = true)]
    migrate_timeout: bool,
    lsr: u8,
    #[vmstate(subsection, needed = Uart20::timeout_pending, gate = "x-migrate-timeout")]
    timeout: Timeout,
}

impl Uart20 {
    fn timeout_pending(&self) -> bool {
        self.timeout.pending != 0
    }
}

/// The same port with the subsection not gated: only its `needed` test
/// decides.
#[derive(Clone, Device, VMState)]
#[device(name = "sb-uart", vmstate)]
#[vmstate(name = "sb-uart", version = 1)]
struct Uart20Ungated {
    lsr: u8,
    #[vmstate(subsection, needed = Uart20Ungated::timeout_pending)]
    timeout: Timeout,
}

impl Uart20Ungated {
    fn timeout_pending(&self) -> bool {
        self.timeout.pending != 0
    }
}

compat_set! {
    /// 2.0's change undone for `sb-1.0`.
    SB_COMPAT_1_0 = "sb_compat_1_0" [
        { Uart20, "x-migrate-timeout", "off" },
    ];
}

fn release_1_0() -> ReleaseBuilder {
    ReleaseBuilder::new("1.0")
        .device::<Uart10>()
        .device::<Queues10>()
        .family(
            MachineFamily::new("sb", "a small board")
                .default_machine()
                .onboard("sb-uart,id=serial0")
                .version(Version::new(1, 0), VersionStep::default()),
        )
}

fn release_2_0(step: VersionStep) -> ReleaseBuilder {
    release_1_0()
        .named("2.0")
        .replace_device::<Uart20>()
        .replace_device::<Queues20>()
        .edit_family("sb", |f| {
            f.version(Version::new(1, 0), step)
                .version(Version::new(2, 0), VersionStep::default())
        })
}

fn on(machine: &str) -> MachineConfig {
    MachineConfig {
        machine: machine.to_owned(),
        ..MachineConfig::default()
    }
}

/// A release with one device type `T`, on board `onboard` of family
/// `family`'s one machine type, `<family>-1.0`.
fn board_release<T: Device>(name: &str, family: &'static str, onboard: &'static str) -> Release {
    ReleaseBuilder::new(name)
        .device::<T>()
        .family(
            MachineFamily::new(family, "a board with one device")
                .default_machine()
                .onboard(onboard)
                .version(Version::new(1, 0), VersionStep::default()),
        )
        .build()
        .unwrap()
}

fn lock_of(release: &Release) -> Lock {
    Lock::from_json(&Lock::of(release).to_json()).unwrap()
}

/// Start `src` on `src_config`, let the guest arm the serial port's receive
/// timeout, save, and load into `dst` on `dst_config`.
fn migrate_with_timeout<T: Device>(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
    arm: impl Fn(&mut T),
) -> Result<(), String> {
    let mut source = src.instantiate_config(src_config).unwrap();
    let uart = source
        .devices
        .iter_mut()
        .find(|d| d.label == "serial0")
        .unwrap();
    arm(uart.object.downcast_mut::<T>().unwrap());
    let bytes = source.save().unwrap();
    let mut destination = dst.instantiate_config(dst_config).unwrap();
    destination
        .load(&bytes)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn arm(u: &mut Uart20) {
    u.timeout.pending = 3;
}

#[test]
fn a_gated_subsection_whose_gate_the_old_machine_type_forgets() {
    let old = release_1_0().build().unwrap();
    let broken = release_2_0(VersionStep::default()).build().unwrap();
    let fixed = release_2_0(VersionStep::compat([SB_COMPAT_1_0]))
        .build()
        .unwrap();

    // Reality: with no timeout armed, even the broken release migrates
    // back; once the guest arms one, 2.0 on sb-1.0 sends the subsection,
    // which 1.0 refuses. The fixed release never sends it there.
    migrate(&broken, &on("sb-1.0"), &old, &on("sb-1.0")).unwrap();
    let err = migrate_with_timeout(&broken, &on("sb-1.0"), &old, &on("sb-1.0"), arm).unwrap_err();
    assert!(err.contains("sb-uart/timeout"), "{err}");
    migrate_with_timeout(&fixed, &on("sb-1.0"), &old, &on("sb-1.0"), arm).unwrap();

    // The checker, which sees only fresh devices (no timeout armed), still
    // says it breaks, and names the condition and the gate.
    let p = check(
        &broken,
        &on("sb-1.0"),
        &old,
        &on("sb-1.0"),
        Some(Side::Source),
    );
    assert!(!p.works, "{p}");
    assert!(
        p.fixes.iter().any(|f| f
            == "add {sb-uart, x-migrate-timeout, off} to a new compat set in the step of \
                machine type sb-1.0 in release 2.0"),
        "{p}"
    );
    assert!(
        p.fixes.iter().any(|f| f
            == "for releases already shipped: start the source with -global \
                sb-uart.x-migrate-timeout=off"),
        "{p}"
    );
    let cause = p.cause.unwrap();
    assert!(
        cause.contains("breaks whenever Uart20::timeout_pending is true")
            && cause.contains("'sb-uart/timeout'")
            && cause.contains("x-migrate-timeout is on"),
        "{cause}"
    );
    let p = check(
        &fixed,
        &on("sb-1.0"),
        &old,
        &on("sb-1.0"),
        Some(Side::Source),
    );
    assert!(p.works, "{p}");

    // Verify against 1.0's lock finds it, on exactly sb-1.0, with the fix.
    // (The queues' bound, which 2.0 also raised, is the subject of
    // `more_queues_than_the_destination_accepts`.)
    let uart = |r: &Release| -> Vec<_> {
        verify(r, &lock_of(&old))
            .into_iter()
            .filter(|f| f.device.as_deref() == Some("sb-uart"))
            .collect()
    };
    let findings = uart(&broken);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.kind, FindingKind::SubsectionAdded);
    assert_eq!(f.item.as_deref(), Some("sb-uart/timeout"));
    assert_eq!(f.machines, ["sb-1.0"]);
    assert_eq!(
        f.fixes[0],
        "add {sb-uart, x-migrate-timeout, off} to a new compat set in the step of machine type \
         sb-1.0 in release 2.0"
    );
    assert!(
        f.fixes[1].contains("-global sb-uart.x-migrate-timeout=off"),
        "{f}"
    );
    assert!(uart(&fixed).is_empty());

    // The option the fix names works on a release already shipped.
    let mut global = on("sb-1.0");
    global
        .globals
        .push(compat_core::parse_global("sb-uart.x-migrate-timeout=off").unwrap());
    migrate_with_timeout(&broken, &global, &old, &on("sb-1.0"), arm).unwrap();
    assert!(check(&broken, &global, &old, &on("sb-1.0"), None).works);
    // The pre-flight agrees: the value the source's own option chose is the
    // configuration asked for; without the option, the switch 1.0 lacks is
    // on, behaviour 1.0 never had.
    compat_core::migration::migrate_with_preflight(&broken, &global, &old, &on("sb-1.0")).unwrap();
    let refused =
        compat_core::migration::migrate_with_preflight(&broken, &on("sb-1.0"), &old, &on("sb-1.0"))
            .unwrap_err()
            .to_string();
    assert!(refused.contains("x-migrate-timeout"), "{refused}");
    let p = check(&broken, &on("sb-1.0"), &old, &on("sb-1.0"), None);
    assert!(
        !p.works && p.cause.as_deref().unwrap().contains("x-migrate-timeout"),
        "{p}"
    );
}

#[test]
fn an_ungated_subsection_breaks_whenever_it_is_needed() {
    let old = release_1_0().build().unwrap();
    let new = release_1_0()
        .named("2.0")
        .replace_device::<Uart20Ungated>()
        .build()
        .unwrap();

    migrate(&new, &on("sb-1.0"), &old, &on("sb-1.0")).unwrap();
    let err = migrate_with_timeout(
        &new,
        &on("sb-1.0"),
        &old,
        &on("sb-1.0"),
        |u: &mut Uart20Ungated| u.timeout.pending = 3,
    )
    .unwrap_err();
    assert!(err.contains("sb-uart/timeout"), "{err}");

    let p = check(&new, &on("sb-1.0"), &old, &on("sb-1.0"), Some(Side::Source));
    assert!(!p.works, "{p}");
    assert!(
        p.cause
            .as_deref()
            .unwrap()
            .contains("breaks whenever Uart20Ungated::timeout_pending is true"),
        "{p}"
    );
    // The fix is the gate, not a property or the host.
    assert_eq!(p.fixes.len(), 1, "{p}");
    assert!(
        p.fixes[0].starts_with("gate subsection 'sb-uart/timeout' with a bool property"),
        "{p}"
    );

    let findings = verify(&new, &lock_of(&old));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].kind, FindingKind::SubsectionAdded);
    assert!(
        findings[0]
            .message
            .contains("breaks whenever Uart20Ungated::timeout_pending is true"),
        "{}",
        findings[0]
    );
    assert!(findings[0].fixes[0].contains("gate = "), "{}", findings[0]);
}

/// A device with `num-queues` queues, each migrating its index; the
/// VMState accepts at most `$max` (4 in release 1.0, 16 in 2.0).
macro_rules! queues {
    ($name:ident, $max:literal) => {
        #[derive(Clone, Device, VMState)]
        #[device(name = "sb-queues", vmstate, realize = $name::realize)]
        #[vmstate(name = "sb-queues", version = 1)]
        struct $name {
            #[property(name = "num-queues", default = 1)]
            num_queues: u16,
            nq: u16,
            #[vmstate(len = nq, max = $max)]
            index: Vec<u16>,
        }

        impl $name {
            fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
                self.nq = self.num_queues;
                self.index = (0..self.num_queues).collect();
                Ok(())
            }
        }
    };
}

queues!(Queues10, 4);
queues!(Queues20, 16);

fn with_queues(machine: &str, n: u16) -> MachineConfig {
    MachineConfig {
        devices: vec![parse_device(&format!("sb-queues,id=q0,num-queues={n}")).unwrap()],
        ..on(machine)
    }
}

#[test]
fn more_queues_than_the_destination_accepts() {
    let old = release_1_0().build().unwrap();
    let new = release_2_0(VersionStep::compat([SB_COMPAT_1_0]))
        .build()
        .unwrap();

    // Within 1.0's maximum both ways: works, and the checker says so.
    let (src, dst) = (with_queues("sb-1.0", 4), with_queues("sb-1.0", 4));
    migrate(&new, &src, &old, &dst).unwrap();
    assert!(check(&new, &src, &old, &dst, None).works);
    migrate(&old, &dst, &new, &src).unwrap();
    assert!(check(&old, &dst, &new, &src, None).works);

    // Verify sees that 2.0 accepts more than 1.0 takes.
    let findings = verify(&new, &lock_of(&old));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].kind, FindingKind::BoundChanged);
    assert_eq!(findings[0].item.as_deref(), Some("index"));

    // 8 queues on 2.0 cannot go back to 1.0, which takes at most 4.
    let (src, dst) = (with_queues("sb-1.0", 8), with_queues("sb-1.0", 8));
    let err = migrate(&new, &src, &old, &dst).unwrap_err();
    assert!(err.load_error().is_some(), "{err}");
    let p = check(&new, &src, &old, &dst, None);
    assert!(!p.works, "{p}");
    assert!(
        p.cause.as_deref().unwrap().contains(
            "the source sends 8 elements of field 'index'; the destination accepts at most 4"
        ),
        "{p}"
    );
}

#[test]
fn a_configuration_that_cannot_load_its_own_stream() {
    use compat_core::migration::verify::{own_streams, Direction};
    let old = release_1_0().build().unwrap();
    // Reality: 1.0 accepts num-queues=5 and cannot load what it saves.
    let five = with_queues("sb-1.0", 5);
    let err = migrate(&old, &five, &old, &five).unwrap_err();
    assert!(
        err.to_string().contains("exceeds the declared maximum 4"),
        "{err}"
    );
    assert!(!check(&old, &five, &old, &five, None).works);

    let findings = own_streams(&old);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.kind, FindingKind::OwnStreamUnloadable);
    assert_eq!(f.device.as_deref(), Some("sb-queues"));
    assert_eq!(f.item.as_deref(), Some("num-queues"));
    assert_eq!(f.direction, Direction::Within);
    assert_eq!(f.machines, ["sb-1.0"]);
    assert_eq!(
        f.fixes[0],
        "refuse num-queues above 4 when realizing sb-queues, so that no configuration makes \
         it send more than a load accepts"
    );
    assert!(
        f.message
            .contains("accepts num-queues=5 but cannot load the stream it then saves"),
        "{f}"
    );
}

#[test]
fn the_matrix_sends_run_time_subsections_and_the_checker_agrees() {
    use compat_core::tools::Catalog;
    for (step, breaks) in [
        (VersionStep::default(), true),
        (VersionStep::compat([SB_COMPAT_1_0]), false),
    ] {
        let catalog = Catalog::new(
            "sb",
            vec![
                release_1_0().build().unwrap(),
                release_2_0(step).build().unwrap(),
            ],
        );
        let table = catalog.machine_matrix("sb-1.0");
        let checked = catalog.machine_matrix_with("sb-1.0", true);
        assert_eq!(table.cells.len(), 4);
        for (c, q) in table.cells.iter().zip(&checked.cells) {
            // Only 2.0 -> 1.0 of the broken release fails, and only
            // because of the subsection a busy guest sends.
            let expect_ok = !(breaks && c.src == "2.0" && c.dst == "1.0");
            match &c.outcome {
                Ok(()) => assert!(expect_ok, "{} -> {}", c.src, c.dst),
                Err(e) => {
                    assert!(!expect_ok, "{} -> {}: {e}", c.src, c.dst);
                    assert!(e.to_string().contains("sb-uart/timeout"), "{e}");
                }
            }
            let src = catalog.release(&c.src).unwrap();
            let dst = catalog.release(&c.dst).unwrap();
            let p = catalog.predict(src, &table.config, dst, &table.config);
            // The checker answers as a migration with the pre-flight does:
            // with the entry forgotten, 1.0 -> 2.0 loads but is refused too,
            // as the guest would find the new switch on (and the way back
            // broken).
            let refused = breaks && c.src == "1.0" && c.dst == "2.0";
            assert_eq!(q.outcome.is_ok(), c.outcome.is_ok() && !refused, "{q:?}");
            assert_eq!(p.works, q.outcome.is_ok(), "{} -> {}: {p}", c.src, c.dst);
            if refused {
                assert!(
                    p.cause.as_deref().unwrap().contains("x-migrate-timeout"),
                    "{p}"
                );
            }
        }
    }
}

/// One event the guest queued.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "sb-log/event", version = 1)]
struct Event {
    code: u16,
}

/// Declares the event log of one release: a queue of at most `$max`
/// events, which the guest fills at run time.
macro_rules! event_log {
    ($name:ident, $max:literal) => {
        #[derive(Clone, Device, VMState)]
        #[device(name = "sb-log", vmstate)]
        #[vmstate(name = "sb-log", version = 1)]
        struct $name {
            #[vmstate(qtailq, max = $max)]
            events: std::collections::VecDeque<Event>,
        }
    };
}

event_log!(Log10, 2);
event_log!(Log20, 8);

#[test]
fn a_list_the_destination_takes_shorter_breaks_once_the_guest_fills_it() {
    let old = board_release::<Log10>("1.0", "lg", "sb-log,id=log0");
    let new = board_release::<Log20>("2.0", "lg", "sb-log,id=log0");
    let lg = on("lg-1.0");
    let fill = |n: u16| move |l: &mut Log20| l.events = (0..n).map(|code| Event { code }).collect();
    let migrate_with = |n: u16| {
        let mut source = new.instantiate_config(&lg).unwrap();
        let log = source
            .devices
            .iter_mut()
            .find(|d| d.label == "log0")
            .unwrap();
        fill(n)(log.object.downcast_mut::<Log20>().unwrap());
        let bytes = source.save().unwrap();
        let mut destination = old.instantiate_config(&lg).unwrap();
        destination
            .load(&bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    // Two events go back to 1.0; three do not.
    migrate_with(2).unwrap();
    let err = migrate_with(3).unwrap_err();
    assert!(err.contains("exceeds the declared maximum 2"), "{err}");
    // A fresh 2.0 device holds none, yet the checker says it breaks.
    let p = check(&new, &lg, &old, &lg, None);
    assert!(!p.works, "{p}");
    assert!(
        p.cause.as_deref().unwrap().contains(
            "breaks whenever field 'events' holds more than 2 elements: the source accepts up \
             to 8, the destination at most 2"
        ),
        "{p}"
    );
    assert_eq!(
        p.fixes,
        [
            "keep max = 2 for 'events' in the newer release (or migrate only while it holds at \
          most 2)"
        ]
    );
    // 1.0 to 2.0 takes whatever 1.0 can send.
    assert!(check(&old, &lg, &new, &lg, None).works);
    // Verify against 1.0's lock says the same.
    let findings = verify(&new, &lock_of(&old));
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.kind, FindingKind::BoundChanged);
    assert_eq!(
        f.direction,
        compat_core::migration::verify::Direction::NewToOld
    );
    assert_eq!(
        f.message,
        "sb-log: list 'events' accepts 2 elements in release 1.0 and 8 in release 2.0: \
         migrating from release 2.0 to release 1.0 breaks whenever it holds more than 2"
    );
}

/// The timeout as a later release sends it: version 2, which 2.0 (version
/// 1) cannot read.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "sb-uart/timeout", version = 2, minimum_version = 2)]
struct Timeout30 {
    pending: u32,
    reload: u32,
}

/// Release 3.0's serial port.
#[derive(Clone, Device, VMState)]
#[device(name = "sb-uart", vmstate)]
#[vmstate(name = "sb-uart", version = 1)]
struct Uart30 {
    #[property(name = "x-migrate-timeout", default = true)]
    migrate_timeout: bool,
    lsr: u8,
    #[vmstate(subsection, needed = Uart30::timeout_pending, gate = "x-migrate-timeout")]
    timeout: Timeout30,
}

impl Uart30 {
    fn timeout_pending(&self) -> bool {
        self.timeout.pending != 0
    }
}

#[test]
fn a_subsection_both_know_but_read_otherwise_breaks_when_sent() {
    let two = release_2_0(VersionStep::default()).build().unwrap();
    let three = release_2_0(VersionStep::default())
        .named("3.0")
        .replace_device::<Uart30>()
        .build()
        .unwrap();
    let m = on("sb-2.0");
    // Fresh: nothing sent, it migrates; armed: 2.0 refuses version 2.
    migrate(&three, &m, &two, &m).unwrap();
    let err = migrate_with_timeout(&three, &m, &two, &m, |u: &mut Uart30| u.timeout.pending = 3)
        .unwrap_err();
    assert!(err.contains("sb-uart/timeout"), "{err}");
    // The checker, from fresh devices, says it breaks, and why.
    let p = check(&three, &m, &two, &m, None);
    assert!(!p.works, "{p}");
    assert!(
        p.cause.as_deref().unwrap().contains(
            "breaks whenever Uart30::timeout_pending is true: the source then sends subsection \
             'sb-uart/timeout' (x-migrate-timeout is on), which the destination reads \
             otherwise: incoming version_id 2 is too new for local version_id 1"
        ),
        "{p}"
    );
    // 2.0 -> 3.0: 3.0 reads version 2 only, so that breaks too.
    assert!(!check(&two, &m, &three, &m, None).works);
}

/// A later port that keeps the property but no longer migrates the
/// timeout.
#[derive(Clone, Device, VMState)]
#[device(name = "sb-uart", vmstate)]
#[vmstate(name = "sb-uart", version = 1)]
struct UartNoTimeout {
    #[property(name = "x-migrate-timeout", default = true)]
    migrate_timeout: bool,
    lsr: u8,
}

#[test]
fn a_subsection_removed_breaks_the_way_in() {
    let two = release_2_0(VersionStep::compat([SB_COMPAT_1_0]))
        .build()
        .unwrap();
    // 3.0 drops the timeout state.
    let three = release_2_0(VersionStep::compat([SB_COMPAT_1_0]))
        .named("3.0")
        .replace_device::<UartNoTimeout>()
        .build()
        .unwrap();
    let m = on("sb-2.0");
    let err = migrate_with_timeout(&two, &m, &three, &m, arm).unwrap_err();
    assert!(err.contains("sb-uart/timeout"), "{err}");
    assert!(!check(&two, &m, &three, &m, None).works);

    let findings: Vec<_> = verify(&three, &lock_of(&two))
        .into_iter()
        .filter(|f| f.kind == FindingKind::SubsectionRemoved)
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.item.as_deref(), Some("sb-uart/timeout"));
    assert_eq!(
        f.direction,
        compat_core::migration::verify::Direction::OldToNew
    );
    // On sb-1.0 release 2.0 keeps the gate off: it never sends it there.
    assert_eq!(f.machines, ["sb-2.0"]);
    assert_eq!(
        f.fixes[0],
        "keep subsection 'sb-uart/timeout' loadable in release 3.0 (a destination reads what \
         older releases send, even state it no longer uses)"
    );
}

#[test]
fn a_busy_guest_stream_sends_the_subsection_and_no_trailer() {
    let two = release_2_0(VersionStep::default()).build().unwrap();
    let mut machine = two.instantiate_config(&on("sb-2.0")).unwrap();
    let fresh = machine.save().unwrap();
    let busy = machine.save_every_subsection().unwrap();
    let has = |b: &[u8], s: &str| b.windows(s.len()).any(|w| w == s.as_bytes());
    // The fresh guest sends no timeout; the busy one does, and ends at the
    // EOF marker (0x00) instead of a vmdesc trailer that would contradict it.
    assert!(!has(&fresh, "sb-uart/timeout") && has(&busy, "sb-uart/timeout"));
    assert!(has(&fresh, "\"devices\"") && !has(&busy, "\"devices\""));
    assert_eq!(busy.last(), Some(&0x00));
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "sb-dma/ring", version = 1)]
struct Ring10 {
    head: u16,
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "sb-dma/ring/stall", version = 1)]
struct Stall {
    since: u32,
}

/// 2.0's ring also migrates a stall, in a subsection of its own.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "sb-dma/ring", version = 1)]
struct Ring20 {
    head: u16,
    #[vmstate(subsection, needed = Ring20::stalled)]
    stall: Stall,
}

impl Ring20 {
    fn stalled(&self) -> bool {
        self.stall.since != 0
    }
}

macro_rules! dma {
    ($name:ident, $ring:ty) => {
        #[derive(Clone, Device, VMState)]
        #[device(name = "sb-dma", vmstate)]
        #[vmstate(name = "sb-dma", version = 1)]
        struct $name {
            ring: $ring,
        }
    };
}

dma!(Dma10, Ring10);
dma!(Dma20, Ring20);

#[test]
fn a_subsection_of_a_nested_struct_breaks_when_sent() {
    let old = board_release::<Dma10>("1.0", "dm", "sb-dma,id=dma0");
    let new = board_release::<Dma20>("2.0", "dm", "sb-dma,id=dma0");
    let m = on("dm-1.0");
    // Fresh: it migrates; a stalled ring does not.
    migrate(&new, &m, &old, &m).unwrap();
    let mut source = new.instantiate_config(&m).unwrap();
    let dma = source
        .devices
        .iter_mut()
        .find(|d| d.label == "dma0")
        .unwrap();
    dma.object.downcast_mut::<Dma20>().unwrap().ring.stall.since = 9;
    let bytes = source.save().unwrap();
    let err = old
        .instantiate_config(&m)
        .unwrap()
        .load(&bytes)
        .unwrap_err();
    assert!(err.to_string().contains("sb-dma/ring/stall"), "{err}");
    // The checker sees it from a fresh device.
    let p = check(&new, &m, &old, &m, None);
    assert!(!p.works, "{p}");
    assert!(
        p.cause.as_deref().unwrap().contains(
            "breaks whenever Ring20::stalled is true: the source then sends subsection \
             'sb-dma/ring/stall' in 'sb-dma/ring', which the destination does not know"
        ),
        "{p}"
    );
    assert!(check(&old, &m, &new, &m, None).works);
    // verify names the same subsection from the locks, and only it.
    let findings = verify(&new, &lock_of(&old));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.kind, FindingKind::SubsectionAdded, "{f}");
    assert_eq!(f.item.as_deref(), Some("sb-dma/ring/stall"), "{f}");
    assert!(
        f.message
            .contains("subsection 'sb-dma/ring/stall' in 'sb-dma/ring' is new"),
        "{f}"
    );
    assert!(verify(&old, &lock_of(&new)).iter().any(|f| {
        f.kind == FindingKind::SubsectionRemoved && f.item.as_deref() == Some("sb-dma/ring/stall")
    }));
}

/// A port whose line status grew to 16 bits (a break no property explains).
#[derive(Clone, Device, VMState)]
#[device(name = "sb-uart", vmstate)]
#[vmstate(name = "sb-uart", version = 1)]
struct UartWide {
    #[property(name = "x-migrate-timeout", default = true)]
    migrate_timeout: bool,
    lsr: u16,
}

#[test]
fn no_fix_undoes_what_a_compat_set_chose() {
    let old = release_1_0().build().unwrap();
    // x-migrate-timeout is off on sb-1.0 through sb_compat_1_0: already the
    // old behaviour. The break is elsewhere (lsr's size).
    let wide = release_2_0(VersionStep::compat([SB_COMPAT_1_0]))
        .replace_device::<UartWide>()
        .build()
        .unwrap();
    let m = on("sb-1.0");
    let p = check(&wide, &m, &old, &m, Some(Side::Source));
    assert!(!p.works, "{p}");
    assert!(p.cause.as_deref().unwrap().contains("'lsr'"), "{p}");
    // The compat set's value is release 1.0's behaviour: no difference.
    assert!(
        !p.property_differences
            .iter()
            .any(|d| d.property == "x-migrate-timeout"),
        "{p}"
    );
    // Turning it back on would only add the subsection 1.0 refuses.
    assert!(
        !p.fixes.iter().any(|f| f.contains("x-migrate-timeout")),
        "{p}"
    );
}
