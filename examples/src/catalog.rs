//! The example releases as a catalog for the tools: the configuration each
//! machine type starts with in the matrix, and the scenarios of QEMU's
//! backward-compatibility documents that are not one cell of it (several
//! hops, a forgotten option, Xen, CPUs on two hosts).

use compat_core::resolve::host_cpu_option;
use compat_core::tools::{Catalog, Scenario};
use compat_core::{parse_device, parse_global, MachineConfig};

use crate::releases;

/// The example releases, the configuration of each machine type, and the
/// scenarios: what the `compat` command runs on.
pub fn catalog() -> Catalog {
    scenarios().into_iter().fold(
        Catalog::new("compat", releases::all())
            .with_version(env!("CARGO_PKG_VERSION"))
            .with_config(standard_config),
        Catalog::scenario,
    )
}

/// The options both sides of a matrix cell start with for machine `M`:
/// `-smp 4` and the devices of the scenarios (none on Xen machines).
pub fn standard_config(machine: &str) -> MachineConfig {
    let devices: &[&str] = if machine.starts_with("pc-q35") || machine == "q35" {
        &[
            "pcie-root-port,id=rp1,chassis=1",
            "e1000e,id=net0",
            "virtio-blk-device,id=blk0",
        ]
    } else if machine.starts_with("pc-i440fx") || machine == "pc" {
        &["e1000e,id=net0", "virtio-blk-device,id=blk0"]
    } else {
        &[]
    };
    MachineConfig {
        machine: machine.to_owned(),
        smp: 4,
        devices: devices
            .iter()
            .map(|d| parse_device(d).expect("a valid -device"))
            .collect(),
        ..MachineConfig::default()
    }
}

/// The CPU features of host A and host B in the CPU scenario: the table
/// of QEMU's migration documents (`pcid` and `stibp` on A, `taa-no` on B).
pub fn hosts() -> [(&'static str, Vec<String>); 2] {
    let names = |fs: &[&str]| fs.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>();
    [("A", names(&["pcid", "stibp"])), ("B", names(&["taa-no"]))]
}

/// The intersection rule: the `-cpu` both hosts can run and migrate
/// between: a base model with exactly the features both have.
pub fn intersection_cpu(a: &[String], b: &[String]) -> String {
    let mut cpu = String::from("base");
    for f in crate::devices::FEATURES {
        if a.iter().any(|x| x == f) && b.iter().any(|x| x == f) {
            cpu.push_str(",+");
            cpu.push_str(f);
        }
    }
    cpu
}

fn with_global(mut config: MachineConfig, global: &str) -> MachineConfig {
    config
        .globals
        .push(parse_global(global).expect("a valid -global"));
    config
}

/// The scenarios that are not one cell of the table.
pub fn scenarios() -> Vec<Scenario> {
    let r = |name: &str| name.to_owned();
    let mut out = Vec::new();
    let mut run = |title: &str, hops: Vec<(String, MachineConfig)>| {
        out.push(
            hops.into_iter()
                .fold(Scenario::new(title), |s, (r, c)| s.hop(r, c)),
        );
    };

    let q51 = standard_config("pc-q35-5.1");
    run(
        "A -> B -> C: 5.1 -> 5.2 -> 5.2 on pc-q35-5.1 (num-queues stays 1 all the way)",
        vec![
            (r("5.1"), q51.clone()),
            (r("5.2"), q51.clone()),
            (r("5.2"), q51),
        ],
    );
    run(
        "5.1 -> 5.2 on pc-q35-5.1 as if hw_compat_5_1 were missing (4 queues on the destination)",
        vec![
            (r("5.1"), standard_config("pc-q35-5.1")),
            (
                r("5.2"),
                with_global(
                    standard_config("pc-q35-5.1"),
                    "virtio-blk-device.num-queues=4",
                ),
            ),
        ],
    );
    run(
        "xen: 4.2 -M xenfv -> 5.0 -M xenfv-4.2 (device state only, no machine name on the wire)",
        vec![
            (r("4.2"), standard_config("xenfv")),
            (r("5.0"), standard_config("xenfv-4.2")),
        ],
    );
    let q72 = standard_config("pc-q35-7.2");
    run(
        "8.0.1 -> 7.2 on pc-q35-7.2 with e1000e.migrate-timadj=on (undoing hw_compat_7_2)",
        vec![
            (
                r("8.0.1"),
                with_global(q72.clone(), "e1000e.migrate-timadj=on"),
            ),
            (r("7.2"), q72.clone()),
        ],
    );
    let unc_on = with_global(q72.clone(), "pci-device.x-pcie-err-unc-mask=on");
    run(
        "8.0 -> 8.0.1 on pc-q35-7.2: the fix refuses 8.0's config",
        vec![(r("8.0"), q72.clone()), (r("8.0.1"), q72.clone())],
    );
    run(
        "8.0 -> 8.0.1 with x-pcie-err-unc-mask=on on the destination",
        vec![(r("8.0"), q72.clone()), (r("8.0.1"), unc_on.clone())],
    );
    run(
        "8.0 -> 8.0.1 -> 8.2, remembering x-pcie-err-unc-mask=on",
        vec![
            (r("8.0"), q72.clone()),
            (r("8.0.1"), unc_on.clone()),
            (r("8.2"), unc_on),
        ],
    );
    run(
        "8.0 -> 8.0.1 -> 8.2, forgetting it on the last hop",
        vec![
            (r("8.0"), q72.clone()),
            (
                r("8.0.1"),
                with_global(q72.clone(), "pci-device.x-pcie-err-unc-mask=on"),
            ),
            (r("8.2"), q72),
        ],
    );

    let [(a_name, a), (b_name, b)] = hosts();
    let cpu_config = |cpu: &str, host: &[String]| MachineConfig {
        cpu: Some(cpu.to_owned()),
        host_features: host.to_vec(),
        ..standard_config("pc-q35-8.0")
    };
    let shared = intersection_cpu(&a, &b);
    // The documents' own lines: each host turns off what the other lacks.
    let (line_a, line_b) = (host_cpu_option(&a, &b), host_cpu_option(&b, &a));
    for (from, fa, cpu_from, to, fb, cpu_to) in [
        (a_name, &a, &line_a, b_name, &b, &line_b),
        (b_name, &b, &line_b, a_name, &a, &line_a),
    ] {
        run(
            &format!(
                "CPU: host {from} -> host {to} with each host's features off, -cpu {cpu_from} \
                 and -cpu {cpu_to}"
            ),
            vec![
                (r("8.0.1"), cpu_config(cpu_from, fa)),
                (r("8.0.1"), cpu_config(cpu_to, fb)),
            ],
        );
    }
    for (from, fa, to, fb) in [(a_name, &a, b_name, &b), (b_name, &b, a_name, &a)] {
        run(
            &format!("CPU: host {from} -> host {to} with -cpu host"),
            vec![
                (r("8.0.1"), cpu_config("host", fa)),
                (r("8.0.1"), cpu_config("host", fb)),
            ],
        );
        run(
            &format!("CPU: host {from} -> host {to} with the intersection, -cpu {shared}"),
            vec![
                (r("8.0.1"), cpu_config(&shared, fa)),
                (r("8.0.1"), cpu_config(&shared, fb)),
            ],
        );
    }
    out
}
