//! The ladder of real QEMU releases — 5.2, 7.2, 10.0, 11.1 — on the machine
//! type all four share (`pc-q35-5.2`): a guest with a root port, a
//! virtio-blk behind it and an e1000e, saved by each, loaded by each (16
//! real migrations), and each stream held against each destination's own
//! `-dump-vmstate` by `check --from STREAM --to DUMP`'s comparison. Every
//! real load completes, and the check finds no break or misread in any of
//! them (renames across releases — ps2's `common` → `parent_obj`, hpet's
//! `num_timers_save` — included).

use compat_core::migration::dump_check::{compare_stream, VmStateDump};
use compat_core::stream::qemu::QemuStream;
use compat_tests::real_qemu::RealQemu;

const MACHINE: &str = "pc-q35-5.2";

fn args() -> Vec<String> {
    [
        "-M",
        MACHINE,
        "-device",
        "pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x3",
        "-blockdev",
        "driver=null-co,node-name=d0",
        "-device",
        "virtio-blk-pci,drive=d0,id=vb0,bus=rp1",
        "-device",
        "e1000e,romfile=,addr=0x4",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[test]
fn streams_across_the_ladder_load_as_the_check_says() {
    let Some(ladder) = RealQemu::ladder_for_test("the ladder of real QEMU releases") else {
        return;
    };
    let dumps: Vec<VmStateDump> = ladder
        .iter()
        .map(|q| VmStateDump::parse(&q.dump_vmstate(MACHINE).unwrap()).unwrap())
        .collect();
    let mut table = String::new();
    let args = args();
    for source in &ladder {
        // Under /tmp: the chrooted releases see the host's /tmp only.
        let file = std::path::PathBuf::from(format!(
            "/tmp/compat-ladder-{}-{}.mig",
            std::process::id(),
            source.version.name()
        ));
        source.save(&args, &file).unwrap();
        let stream = QemuStream::parse(&std::fs::read(&file).unwrap()).unwrap();
        for (dest, dump) in ladder.iter().zip(&dumps) {
            let real = dest.load(&args, &file);
            let c = compare_stream(&stream, dump);
            table.push_str(&format!(
                "{} -> {}: real {}, check {}\n",
                source.version.name(),
                dest.version.name(),
                if real.completed { "loads" } else { "fails" },
                if c.fails() { "fails" } else { "works" },
            ));
            let what = format!(
                "{} -> {}: {c}; real: {:?}",
                source.version.name(),
                dest.version.name(),
                real.errors
            );
            // Measured: every cell of this machine loads.
            assert!(real.completed, "{what}");
            assert!(!c.fails(), "{what}");
        }
        std::fs::remove_file(&file).ok();
    }
    eprintln!("{table}");
}
