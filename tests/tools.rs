//! The tools over a VMM's own releases, not the examples: a tiny VMM
//! ("myvm") with two releases and its own compat set name builds its own
//! `compat`-style command from a catalog, and `matrix`, `check`,
//! `explain` and `machines` run on it.

use std::ffi::OsString;

use compat_core::tools::{cli, Catalog, Scenario};
use compat_core::{compat_set, Device, VMState};
use compat_core::{
    parse_device, Board, MachineConfig, MachineFamily, RealizeError, Release, ReleaseBuilder,
    Version, VersionStep,
};

/// Release 1.0's UART: a 16-byte FIFO.
#[derive(Clone, Device, VMState)]
#[device(name = "myvm-uart", vmstate, realize = Uart10::realize)]
#[vmstate(name = "myvm-uart", version = 1)]
pub struct Uart10 {
    #[vmstate(name = "fifo_size", must_match)]
    pub fifo_size: u32,
    pub lsr: u8,
}

impl Uart10 {
    fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
        self.fifo_size = 16;
        Ok(())
    }
}

/// Release 2.0's UART: a 64-byte FIFO unless `fifo64=off`.
#[derive(Clone, Device, VMState)]
#[device(name = "myvm-uart", vmstate, realize = Uart20::realize)]
#[vmstate(name = "myvm-uart", version = 1)]
pub struct Uart20 {
    /// The 64-byte FIFO of 2.0.
    #[property(name = "fifo64", default = true)]
    #[vmstate(skip)]
    pub fifo64: bool,
    #[vmstate(name = "fifo_size", must_match)]
    pub fifo_size: u32,
    pub lsr: u8,
}

impl Uart20 {
    fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
        self.fifo_size = if self.fifo64 { 64 } else { 16 };
        Ok(())
    }
}

compat_set! {
    /// What 2.0 changed, undone for `virt-1.0`.
    pub MYVM_COMPAT_1_0 = "myvm_compat_1_0" [
        { Uart20, "fifo64", "off" },
    ];
}

fn v(major: u16, minor: u16) -> Version {
    Version::new(major, minor)
}

fn release_1_0() -> ReleaseBuilder {
    ReleaseBuilder::new("1.0").device::<Uart10>().family(
        MachineFamily::new("virt", "MyVM virtual board")
            .latest_alias("virt")
            .default_machine()
            .version(v(1, 0), VersionStep::default()),
    )
}

/// 2.0 with its compat set, or — `forgetting` — without it.
fn release_2_0(forgetting: bool) -> ReleaseBuilder {
    let step = if forgetting {
        // The set is there, but empty: the entry was forgotten.
        VersionStep::compat([EMPTY_1_0])
    } else {
        VersionStep::compat([MYVM_COMPAT_1_0])
    };
    release_1_0()
        .named("2.0")
        .replace_device::<Uart20>()
        .edit_family("virt", |f| {
            f.version(v(1, 0), step)
                .version(v(2, 0), VersionStep::default())
        })
}

compat_set! {
    /// `myvm_compat_1_0` as a careless 2.0 shipped it.
    pub EMPTY_1_0 = "myvm_compat_1_0" [];
}

fn catalog(forgetting: bool) -> Catalog {
    let releases: Vec<Release> = vec![
        release_1_0().build().unwrap(),
        release_2_0(forgetting).build().unwrap(),
    ];
    let config = |machine: &str| MachineConfig {
        machine: machine.to_owned(),
        devices: vec![parse_device("myvm-uart,id=uart0").unwrap()],
        ..MachineConfig::default()
    };
    Catalog::new("myvm-compat", releases)
        .with_config(config)
        .scenario(
            Scenario::new("1.0 -> 2.0 -> 1.0 on virt-1.0")
                .hop("1.0", config("virt-1.0"))
                .hop("2.0", config("virt-1.0"))
                .hop("1.0", config("virt-1.0")),
        )
}

/// Run the catalog's command with `args`: exit status, stdout, stderr.
fn run(catalog: &Catalog, args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("myvm-compat")
        .chain(args.iter().copied())
        .map(OsString::from);
    let code = cli::run(catalog, argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn matrix_over_the_vmms_own_releases() {
    let good = catalog(false);
    assert_eq!(good.release_names(), ["1.0", "2.0"]);
    assert_eq!(good.machine_names(), ["virt-1.0", "virt-2.0"]);
    let (code, out, err) = run(&good, &["matrix"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        "== virt-1.0  (-M virt-1.0 -smp 1 -device myvm-uart,id=uart0)\n\
         \x20 src\\dst 1.0    2.0    \n\
         \x20 1.0     ok     ok     \n\
         \x20 2.0     ok     ok     \n\
         \n\
         == virt-2.0  (-M virt-2.0 -smp 1 -device myvm-uart,id=uart0)\n\
         \x20 src\\dst 1.0    2.0    \n\
         \x20 2.0     no-M   ok     \n\
         \x20 no-M: the destination release does not know virt-2.0 and refuses to start\n\
         \n\
         == scenarios\n\
         \x20 ok    1.0 -> 2.0 -> 1.0 on virt-1.0\n\
         \x20         1.0: -M virt-1.0 -smp 1 -device myvm-uart,id=uart0\n\
         \x20         2.0: -M virt-1.0 -smp 1 -device myvm-uart,id=uart0\n\
         \x20         1.0: -M virt-1.0 -smp 1 -device myvm-uart,id=uart0\n"
    );

    // Forgetting the entry breaks both directions on the old machine type,
    // with the real load error.
    let bad = catalog(true);
    let (code, out, _) = run(&bad, &["matrix", "--json", "-M", "virt-1.0"]);
    assert_eq!(code, 0, "the matrix is a report, not a verdict");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cells = json["machines"][0]["cells"].as_array().unwrap();
    let cell = cells
        .iter()
        .find(|c| c["src"] == "1.0" && c["dst"] == "2.0")
        .unwrap();
    assert_eq!(cell["ok"], false);
    assert!(
        cell["error"]
            .as_str()
            .unwrap()
            .contains("field 'fifo_size': must match"),
        "{cell}"
    );
}

#[test]
fn check_names_the_vmms_own_compat_set_and_gates_ci() {
    let bad = catalog(true);
    let (code, out, err) = run(
        &bad,
        &[
            "check",
            "--from",
            "1.0",
            "--to",
            "2.0",
            "-M",
            "virt-1.0",
            "myvm-uart,id=uart0",
        ],
    );
    assert_eq!(code, 1, "a direction that fails exits 1: {out}{err}");
    assert_eq!(err, "");
    assert!(
        out.starts_with(
            "1.0 -> 2.0 on virt-1.0: FAILS: device 'myvm-uart': field 'fifo_size' must \
             match: the source has 0x00000010, the destination 0x00000040\n"
        ),
        "{out}"
    );
    // The entry goes into the set 2.0's own virt-1.0 step applies, by the
    // name this VMM gave it; and a destination already shipped can be
    // started with the option.
    assert!(
        out.contains("  fix: add {myvm-uart, fifo64, off} to myvm_compat_1_0 in release 2.0\n"),
        "{out}"
    );
    assert!(
        out.contains("  fix: start the destination with -global myvm-uart.fifo64=off"),
        "{out}"
    );
    assert!(out.contains("2.0 -> 1.0 on virt-1.0: FAILS"), "{out}");

    let (code, out, _) = run(
        &bad,
        &[
            "check",
            "--json",
            "--from",
            "1.0",
            "--to",
            "2.0",
            "-M",
            "virt-1.0",
            "-device",
            "myvm-uart,id=uart0",
        ],
    );
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["works"], false);
    assert_eq!(json["directions"][0]["device"], "uart0");
    assert_eq!(
        json["directions"][0]["property_differences"][0]["destination"],
        "on"
    );

    let good = catalog(false);
    let (code, out, _) = run(
        &good,
        &[
            "check",
            "--from",
            "1.0",
            "--to",
            "2.0",
            "-M",
            "virt-1.0",
            "myvm-uart,id=uart0",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1.0 -> 2.0 on virt-1.0: works\n"), "{out}");
    assert!(out.contains("2.0 -> 1.0 on virt-1.0: works\n"), "{out}");
}

#[test]
fn the_machine_types_own_step_names_its_sets() {
    let bad = catalog(true);
    let newer = bad.release("2.0").unwrap();
    assert_eq!(
        newer.machine("virt-1.0").unwrap().own_compat_sets,
        ["myvm_compat_1_0"]
    );
    assert!(newer
        .machine("virt-2.0")
        .unwrap()
        .own_compat_sets
        .is_empty());
}

#[test]
fn explain_machines_and_errors_on_the_vmms_releases() {
    let good = catalog(false);
    let (code, out, err) = run(
        &good,
        &[
            "explain",
            "--release",
            "2.0",
            "-M",
            "virt-1.0",
            "-device",
            "myvm-uart,id=uart0",
            "uart0.fifo64",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.ends_with(
            "in short: default on (myvm-uart) → off by myvm_compat_1_0 applied by virt-1.0\n"
        ),
        "{out}"
    );
    let (code, out, _) = run(&good, &["machines", "--json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json[0]["name"], "virt-1.0");
    assert_eq!(json[0]["compat_sets"][0], "myvm_compat_1_0");
    assert_eq!(json[1]["alias"], "virt");

    // An unknown release: the command cannot answer (2), unlike a
    // direction that does not migrate (1).
    let (code, out, err) = run(&good, &["machines", "--release", "3.0"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "myvm-compat: unknown release '3.0'; did you mean '1.0'?; the releases are 1.0, 2.0\n"
    );
    let (code, _, err) = run(&good, &["--help"]);
    assert_eq!(code, 0);
    assert_eq!(err, "");
    let (_, help, _) = run(&good, &["--help"]);
    assert!(help.contains("Releases: 1.0, 2.0"), "{help}");
    assert!(help.starts_with("Declarative devices"), "{help}");
    // The examples in the help are made of this VMM's own names.
    let (_, check_help, _) = run(&good, &["check", "--help"]);
    assert!(
        check_help.trim_end().ends_with(
            "Example: myvm-compat check --from 1.0 --to 2.0 -M virt-1.0 -device myvm-uart,id=dev0"
        ),
        "{check_help}"
    );
}

#[test]
fn machines_devices_and_catalogs_cross_threads() {
    use std::sync::{Arc, Mutex};
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Release>();
    send_sync::<Catalog>();
    fn send<T: Send>() {}
    send::<compat_core::Machine<'static>>();
    send::<Box<dyn compat_core::DeviceObject>>();

    let good = catalog(false);
    let r2 = good.release("2.0").unwrap();
    let mut machine = r2.instantiate_config(&good.config_for("virt-1.0")).unwrap();
    // A migration thread saves the machine while a device manager holds a
    // device behind a mutex.
    let bytes = std::thread::scope(|s| s.spawn(move || machine.save().unwrap()).join().unwrap());
    let device = Arc::new(Mutex::new(r2.registry().create("myvm-uart").unwrap()));
    let manager = Arc::clone(&device);
    std::thread::spawn(move || {
        manager.lock().unwrap().set_str("fifo64", "off").unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(
        device.lock().unwrap().get("fifo64").unwrap().to_string(),
        "off"
    );
    let mut destination = good
        .release("1.0")
        .unwrap()
        .instantiate_config(&good.config_for("virt-1.0"))
        .unwrap();
    destination.load(&bytes).unwrap();
}

/// A DMA engine whose channels are slots that may be empty; 2.0 leaves
/// its second channel empty unless `second` is on.
mod dma {
    use compat_core::{Board, Device, RealizeError, VMState};

    #[derive(Clone, Debug, Default, PartialEq, VMState)]
    #[vmstate(name = "dma/channel", version = 1)]
    pub struct Channel {
        pub addr: u32,
    }

    #[derive(Clone, Device, VMState)]
    #[device(name = "dma", vmstate, realize = Dma10::realize)]
    #[vmstate(name = "dma", version = 1)]
    pub struct Dma10 {
        pub channels: [Option<Box<Channel>>; 2],
    }

    impl Dma10 {
        fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
            self.channels = [Some(Box::default()), Some(Box::default())];
            Ok(())
        }
    }

    #[derive(Clone, Device, VMState)]
    #[device(name = "dma", vmstate, realize = Dma20::realize)]
    #[vmstate(name = "dma", version = 1)]
    pub struct Dma20 {
        #[property(name = "second", default = false)]
        pub second: bool,
        pub channels: [Option<Box<Channel>>; 2],
    }

    impl Dma20 {
        fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
            self.channels = [Some(Box::default()), self.second.then(Box::default)];
            Ok(())
        }
    }
}

#[test]
fn the_checker_sees_slots_the_sides_disagree_on() {
    use compat_core::migration::check::{check, Side};
    let family = || MachineFamily::new("virt", "board").version(v(1, 0), VersionStep::default());
    let r1 = ReleaseBuilder::new("1.0")
        .device::<dma::Dma10>()
        .family(family())
        .build()
        .unwrap();
    let r2 = ReleaseBuilder::new("2.0")
        .device::<dma::Dma20>()
        .family(family())
        .build()
        .unwrap();
    let config = MachineConfig {
        machine: "virt-1.0".into(),
        devices: vec![parse_device("dma,id=dma0").unwrap()],
        ..MachineConfig::default()
    };
    let p = check(&r1, &config, &r2, &config, Some(Side::Destination));
    assert!(!p.works);
    assert_eq!(
        p.cause.as_deref(),
        Some(
            "device 'dma': the source sends field 'channels' (2 x struct, 4 bytes each), \
             the destination reads 'channels' (struct) there"
        )
    );
    // The real load agrees, with the precise error.
    let e = compat_core::migrate(&r1, &config, &r2, &config).unwrap_err();
    assert!(
        e.to_string().contains("null marker 0x30 was expected"),
        "{e}"
    );
    // With the channel on at the destination, both sides have it.
    let mut on = config.clone();
    on.devices = vec![parse_device("dma,id=dma0,second=on").unwrap()];
    assert!(check(&r1, &config, &r2, &on, Some(Side::Destination)).works);
    compat_core::migrate(&r1, &config, &r2, &on).unwrap();
    // The pre-flight agrees: the destination's own option chose the switch
    // the source lacks.
    compat_core::migration::migrate_with_preflight(&r1, &config, &r2, &on).unwrap();
}

/// A device whose queue holds what the guest queued: the count is state,
/// not layout.
mod queue {
    use compat_core::{Board, Device, RealizeError, VMState};

    #[derive(Clone, Debug, Default, PartialEq, VMState)]
    #[vmstate(name = "queue/req", version = 1)]
    pub struct Req {
        pub id: u32,
    }

    #[derive(Clone, Device, VMState)]
    #[device(name = "queue", vmstate, realize = Queue::realize)]
    #[vmstate(name = "queue", version = 1)]
    pub struct Queue {
        /// How many requests the guest queued: a stand-in for run-time
        /// state, so declared a host setting (`local`) that two sides may
        /// hold differently without the guest seeing another device.
        #[property(name = "pending", default = 0, local)]
        pub pending: u32,
        #[vmstate(qtailq, max = 16)]
        pub reqs: Vec<Req>,
    }

    impl Queue {
        fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
            self.reqs = (0..self.pending).map(|id| Req { id }).collect();
            Ok(())
        }
    }
}

#[test]
fn the_checker_takes_a_list_of_any_length() {
    use compat_core::migration::check::{check, Side};
    let release = || {
        ReleaseBuilder::new("1.0")
            .device::<queue::Queue>()
            .family(MachineFamily::new("virt", "board").version(v(1, 0), VersionStep::default()))
            .build()
            .unwrap()
    };
    let (src, dst) = (release(), release());
    let with = |spec: &str| MachineConfig {
        machine: "virt-1.0".into(),
        devices: vec![parse_device(spec).unwrap()],
        ..MachineConfig::default()
    };
    // Three requests queued on the source, none on the destination: the
    // destination reads them all.
    let (three, none) = (with("queue,id=q0,pending=3"), with("queue,id=q0"));
    let p = check(&src, &three, &dst, &none, Some(Side::Destination));
    assert!(p.works, "{p}");
    compat_core::migrate(&src, &three, &dst, &none).unwrap();
}
