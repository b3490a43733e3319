//! Pre-flight: the source sends how it is configured before any device
//! state, and the destination refuses at once, naming every difference and
//! the option that would make it accept — property, layout, same-size
//! misread, machine type — or loads as before when there is none. Streams
//! with the section are read by QEMU's `analyze-migration.py`; streams
//! without it load as they always did.

use compat_core::codec::LoadErrorKind;
use compat_core::migration::preflight::{self, DifferenceKind, Preflight, PREFLIGHT_IDSTR};
use compat_core::stream::qemu::QemuStream;
use compat_core::{
    Device, MachineConfig, MachineFamily, Release, ReleaseBuilder, VMState, Version, VersionStep,
};
use compat_examples::catalog::standard_config;
use compat_examples::releases;

fn release(name: &str) -> Release {
    releases::release(name).unwrap()
}

#[test]
fn the_aer_mask_is_refused_before_any_device_state_with_the_option_that_accepts_it() {
    // 8.0 forgot the AER mask in hw_compat_7_2; 8.0.1 has it.
    let (src, dst) = (release("8.0"), release("8.0.1"));
    let config = standard_config("pc-q35-7.2");
    let mut source = src.instantiate_config(&config).unwrap();
    let bytes = source.save_with_preflight().unwrap();
    let mut destination = dst.instantiate_config(&config).unwrap();
    let before = destination.save().unwrap();

    let err = destination.load(&bytes).unwrap_err();
    let LoadErrorKind::Preflight { differences } = &err.kind else {
        panic!("not a pre-flight refusal: {err}");
    };
    assert_eq!(
        differences,
        &[
            "device 'rp1': property 'x-pcie-err-unc-mask': source on, destination off \
             (accept it with -global pcie-root-port.x-pcie-err-unc-mask=on)",
            "device 'rp1': must-match field 'parent_obj.parent_obj.parent_obj.config': \
             source 0x40 at index 0x10a, destination 0x00",
            // e1000e is a PCI device too, with the same switch and the same
            // AER capability.
            "device 'net0': property 'x-pcie-err-unc-mask': source on, destination off \
             (accept it with -global e1000e.x-pcie-err-unc-mask=on)",
            // e1000e's two parts are both `parent_obj`: the trailer names
            // the first `parent_obj[0]`, as QEMU's does.
            "device 'net0': must-match field 'parent_obj[0].config': source 0x40 at index \
             0x10a, destination 0x00",
        ]
    );
    // Before any device section: the refusal is at the pre-flight section,
    // and no device changed.
    let idstr = b"0000:00:01.0/pcie-root-port";
    let first_device = bytes
        .windows(idstr.len())
        .position(|w| w == idstr)
        .expect("the root port's section");
    assert!(err.offset < first_device, "{err}");
    assert_eq!(destination.save().unwrap(), before);

    // Without the pre-flight, the same migration fails late, in the
    // root port's config space.
    let late = destination.load(&source.save().unwrap()).unwrap_err();
    assert!(
        matches!(late.kind, LoadErrorKind::BadConfigData { .. }),
        "{late}"
    );

    // With the options the pre-flight named (one for every PCI device
    // type), the destination accepts.
    let mut accepting = dst
        .instantiate_config(&MachineConfig {
            globals: vec![
                compat_core::parse_global("pcie-root-port.x-pcie-err-unc-mask=on").unwrap(),
                compat_core::parse_global("e1000e.x-pcie-err-unc-mask=on").unwrap(),
            ],
            ..config.clone()
        })
        .unwrap();
    accepting.load(&bytes).unwrap();
}

#[test]
fn matching_sides_load_and_streams_with_the_section_read_everywhere() {
    let config = standard_config("pc-q35-7.2");
    let (src, dst) = (release("8.0.1"), release("8.2"));
    let mut source = src.instantiate_config(&config).unwrap();
    let bytes = source.save_with_preflight().unwrap();
    let plain = source.save().unwrap();
    let mut destination = dst.instantiate_config(&config).unwrap();
    destination.load(&bytes).unwrap();
    destination.load(&plain).unwrap();
    assert_eq!(destination.save().unwrap(), plain);

    // The whole-stream reader decodes the section through the trailer and
    // writes the stream back byte for byte.
    let doc = QemuStream::parse(&bytes).unwrap();
    assert_eq!(doc.to_bytes(), bytes);
    let section = doc
        .device(PREFLIGHT_IDSTR, 0)
        .expect("the pre-flight section");
    assert_eq!(section.fields[1].name, "configuration");
    // What it carries is the source's configuration.
    let compat_core::stream::qemu::FieldValue::Bytes(json) = &section.fields[1].value else {
        panic!("a buffer");
    };
    let carried = Preflight::from_json(json).unwrap();
    assert_eq!(carried, Preflight::of(&mut source));
    assert_eq!(carried.machine, "pc-q35-7.2");
    assert!(carried.compat_sets.contains(&"hw_compat_7_2".to_owned()));
}

#[test]
fn analyze_migration_reads_a_stream_with_the_section() {
    let what = "analyze-migration.py on a stream with a pre-flight";
    let Some(shared) = compat_tests::shared(what) else {
        return;
    };
    if !compat_tests::python(what) {
        return;
    }
    let script = shared.join("qemu-scripts/analyze-migration.py");
    let r = release("8.2");
    let mut source = r
        .instantiate_config(&standard_config("pc-q35-8.2"))
        .unwrap();
    let bytes = source.save_with_preflight().unwrap();
    let file = std::env::temp_dir().join(format!("compat-preflight-{}.mig", std::process::id()));
    std::fs::write(&file, &bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = QemuStream::parse(&bytes).unwrap().analyze();
    assert_eq!(shown, ours);
    let key = shown
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with(PREFLIGHT_IDSTR))
        .expect("the script shows the pre-flight section");
    assert!(shown[key]["configuration"].is_string(), "{}", shown[key]);
}

/// An SCSI controller of two releases, as am53c974 is between QEMU 7.2 and
/// 10.0: the same bytes, two fields in another order.
#[derive(Clone, Device, VMState)]
#[device(name = "esp", vmstate)]
#[vmstate(name = "esp", version = 1)]
struct Esp1 {
    ti_cmd: u8,
    lun: u8,
    drq_state: u8,
}

#[derive(Clone, Device, VMState)]
#[device(name = "esp", vmstate)]
#[vmstate(name = "esp", version = 1)]
struct Esp2 {
    lun: u8,
    drq_state: u8,
    ti_cmd: u8,
}

/// A third release that adds a field without a version: a load fails.
#[derive(Clone, Device, VMState)]
#[device(name = "esp", vmstate)]
#[vmstate(name = "esp", version = 1)]
struct Esp3 {
    ti_cmd: u8,
    lun: u8,
    drq_state: u8,
    fifo: u32,
}

fn esp_release<T: Device>(name: &str) -> Release {
    ReleaseBuilder::new(name)
        .device::<T>()
        .family(
            MachineFamily::new("board", "a board with a SCSI controller")
                .default_machine()
                .onboard("esp,id=scsi0")
                .version(Version::new(1, 0), VersionStep::default())
                .version(Version::new(2, 0), VersionStep::default()),
        )
        .build()
        .unwrap()
}

fn on(machine: &str) -> MachineConfig {
    MachineConfig {
        machine: machine.to_owned(),
        ..MachineConfig::default()
    }
}

#[test]
fn layouts_of_the_same_size_with_other_fields_are_a_misread_the_load_misses() {
    let (r1, r2) = (esp_release::<Esp1>("1"), esp_release::<Esp2>("2"));
    let mut source = r1.instantiate_config(&on("board-1.0")).unwrap();
    let esp = source.devices[0].object.downcast_mut::<Esp1>().unwrap();
    (esp.ti_cmd, esp.lun, esp.drq_state) = (0x10, 2, 1);
    // The load completes and misreads: ti_cmd lands in lun.
    let mut destination = r2.instantiate_config(&on("board-1.0")).unwrap();
    destination.load(&source.save().unwrap()).unwrap();
    let esp = destination.devices[0]
        .object
        .downcast_ref::<Esp2>()
        .unwrap();
    assert_eq!(esp.lun, 0x10, "the plain load misreads silently");

    let mut destination = r2.instantiate_config(&on("board-1.0")).unwrap();
    let err = destination
        .load(&source.save_with_preflight().unwrap())
        .unwrap_err();
    assert!(matches!(err.kind, LoadErrorKind::Preflight { .. }), "{err}");
    let incoming = Preflight::of(&mut source);
    let differences = preflight::check(&incoming, &mut destination);
    assert_eq!(differences.len(), 1, "{differences:#?}");
    assert_eq!(differences[0].kind, DifferenceKind::Misread);
    assert_eq!(
        differences[0].to_string(),
        "device 'scsi0': state 'esp': the source sends field 'ti_cmd' (uint8, 1 bytes), the \
         destination reads 'lun' (uint8, 1 bytes) there, in as many bytes: a load would \
         complete and misread them"
    );

    // A layout that differs in size is a failure the load would hit late.
    let r3 = esp_release::<Esp3>("3");
    let mut other = r3.instantiate_config(&on("board-1.0")).unwrap();
    let differences = preflight::check(&incoming, &mut other);
    assert_eq!(differences.len(), 1, "{differences:#?}");
    assert_eq!(differences[0].kind, DifferenceKind::Layout);
}

#[test]
fn another_machine_type_and_missing_devices_are_named() {
    let r1 = esp_release::<Esp1>("1");
    let mut source = r1.instantiate_config(&on("board-1.0")).unwrap();
    let incoming = Preflight::of(&mut source);
    let mut newer = r1.instantiate_config(&on("board-2.0")).unwrap();
    let differences = preflight::check(&incoming, &mut newer);
    assert_eq!(differences[0].kind, DifferenceKind::MachineType);
    assert_eq!(
        differences[0].to_string(),
        "machine type: source board-1.0, destination board-2.0 (accept it with -M board-1.0)"
    );

    // A source device the destination does not have: named, with the
    // option that creates it.
    let (src, dst) = (release("8.2"), release("8.2"));
    let mut source = src
        .instantiate_config(&standard_config("pc-q35-8.2"))
        .unwrap();
    let incoming = Preflight::of(&mut source);
    let mut bare = dst.instantiate_config(&on("pc-q35-8.2")).unwrap();
    let missing: Vec<String> = preflight::check(&incoming, &mut bare)
        .iter()
        .filter(|d| d.kind == DifferenceKind::MissingDevice)
        .map(ToString::to_string)
        .collect();
    assert!(
        missing.contains(
            &"device 'net0': device: source e1000e, destination none (accept it with -device e1000e,id=net0)"
                .to_owned()
        ),
        "{missing:#?}"
    );
}

#[test]
fn a_bad_preflight_section_is_refused_precisely_before_any_device() {
    let config = standard_config("pc-q35-8.2");
    let r = release("8.2");
    let mut source = r.instantiate_config(&config).unwrap();
    let good = source.save_with_preflight().unwrap();
    let mut destination = r.instantiate_config(&config).unwrap();
    let before = destination.save().unwrap();
    let json_at = good.windows(10).position(|w| w == b"{\"schema\":").unwrap();

    // Not JSON.
    let mut bad = good.clone();
    bad[json_at + 1] = b'!';
    let err = destination.load(&bad).unwrap_err();
    assert!(
        err.to_string().contains("the pre-flight is not readable"),
        "{err}"
    );
    assert_eq!(destination.save().unwrap(), before);

    // A length past the end of the stream.
    let mut bad = good.clone();
    bad[json_at - 4..json_at].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = destination.load(&bad).unwrap_err();
    assert!(matches!(err.kind, LoadErrorKind::Truncated { .. }), "{err}");
    assert_eq!(err.section.as_ref().unwrap().idstr, PREFLIGHT_IDSTR);
    assert_eq!(destination.save().unwrap(), before);

    // A second pre-flight section: refused, as a second configuration is.
    let start = 8 + 5 + u32::from_be_bytes(good[9..13].try_into().unwrap()) as usize;
    let header = 1 + 4 + 1 + PREFLIGHT_IDSTR.len() + 4 + 4;
    let json_len = u32::from_be_bytes(good[start + header..][..4].try_into().unwrap()) as usize;
    let end = start + header + 4 + json_len + 5;
    let mut twice = good[..end].to_vec();
    twice.extend_from_slice(&good[start..]);
    let err = destination.load(&twice).unwrap_err();
    assert!(
        err.to_string().contains("a second pre-flight section"),
        "{err}"
    );
    assert_eq!(err.offset, end);
    assert_eq!(destination.save().unwrap(), before);

    // A device the destination does not have, and a property it does not
    // know: each named.
    let mut incoming = Preflight::of(&mut source);
    assert_eq!(incoming.devices[1].label, "net0");
    incoming.devices[0].section = "ghost/ghost".into();
    incoming.devices[1].properties[0].name = "no-such-property".into();
    incoming.devices[1].properties[0].value = "on".into();
    let differences = preflight::check(&incoming, &mut destination);
    let text: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert!(
        text.contains(
            &"device 'net0': property 'no-such-property': source on, destination none".to_owned()
        ),
        "{text:#?}"
    );
    assert!(
        differences
            .iter()
            .any(|d| d.kind == DifferenceKind::MissingDevice),
        "{text:#?}"
    );
    // A property or a section listed twice is not a pre-flight.
    let mut twice = Preflight::of(&mut source);
    let again = twice.devices[0].properties[0].clone();
    assert_eq!(again.name, "acpi-index");
    twice.devices[0].properties.push(again);
    let err = Preflight::from_json(twice.to_json().as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the pre-flight of device 'rp1' is not readable: property 'acpi-index' is listed twice"
    );
    let mut twice = Preflight::of(&mut source);
    let again = twice.devices[0].clone();
    twice.devices.push(again);
    let err = Preflight::from_json(twice.to_json().as_bytes()).unwrap_err();
    assert!(err.to_string().ends_with("is listed twice"), "{err}");
    // A text that would drive the terminal is not a pre-flight.
    let evil = incoming
        .to_json()
        .replace("no-such-property", "x\\u001b[2J");
    let err = Preflight::from_json(evil.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the pre-flight is not readable: a text holds control characters: x\\u{1b}[2J"
    );
}

/// The documents' mitigation, done by the destination: a guest started on
/// 8.0 with pc-q35-7.2 carries `x-pcie-err-unc-mask=on` from host to host
/// (8.0 → 8.0.1 → 8.2) with no hand-written option, and a cold boot on 8.2
/// gets the fixed value.
#[test]
fn a_sticky_mitigation_travels_with_the_guest_until_a_cold_boot() {
    use compat_core::migration::incoming::{incoming, StickyPolicy};
    let config = standard_config("pc-q35-7.2");
    let (r80, r801, r82) = (release("8.0"), release("8.0.1"), release("8.2"));
    let mut first = r80.instantiate_config(&config).unwrap();
    let policy = StickyPolicy::Listed(vec!["pci-device.x-pcie-err-unc-mask".into()]);

    let bytes = first.save_with_preflight().unwrap();
    let mut hop1 = incoming(&r801, &config, &bytes, &policy).unwrap();
    // Every PCI device of the guest carries it: the root port and e1000e.
    assert_eq!(
        hop1.adopted,
        ["rp1", "net0"].map(|d| compat_core::Adoption::new(d, "x-pcie-err-unc-mask", "on", "8.0"))
    );
    let bytes = hop1.machine.save_with_preflight().unwrap();
    let mut hop2 = incoming(&r82, &config, &bytes, &policy).unwrap();
    // The mark came from 8.0, through 8.0.1.
    assert_eq!(
        hop2.adopted,
        ["rp1", "net0"].map(|d| compat_core::Adoption::new(d, "x-pcie-err-unc-mask", "on", "8.0"))
    );
    let e = hop2.machine.explain("rp1", "x-pcie-err-unc-mask").unwrap();
    assert_eq!(
        e.summary(),
        "default on (pci-device) → off by hw_compat_7_2 applied by pc-q35-7.2 → on by adopted \
         from the incoming migration, first set by release 8.0"
    );
    // The same chain in one call.
    let hops = [
        (&r80, config.clone()),
        (&r801, config.clone()),
        (&r82, config.clone()),
    ];
    let adopted = compat_core::migration::incoming::chain(&hops, &policy);
    assert_eq!(adopted.len(), 2);
    assert!(adopted
        .iter()
        .all(|hop| hop.as_ref().is_ok_and(|a| a.len() == 2)));
    // And on to another 8.2 host, still marked.
    let bytes = hop2.machine.save_with_preflight().unwrap();
    let hop3 = incoming(&r82, &config, &bytes, &policy).unwrap();
    assert_eq!(hop3.adopted.len(), 2);

    // A cold boot on 8.2 resolves normally: the fixed value.
    let cold = r82.instantiate_config(&config).unwrap();
    assert_eq!(
        cold.explain("rp1", "x-pcie-err-unc-mask")
            .unwrap()
            .summary(),
        "default on (pci-device) → off by hw_compat_7_2 applied by pc-q35-7.2"
    );
    // Without the policy, the first hop is refused before any state moves.
    let bytes = first.save_with_preflight().unwrap();
    let err = incoming(&r801, &config, &bytes, &StickyPolicy::Refuse).unwrap_err();
    assert!(
        err.to_string()
            .contains("property 'x-pcie-err-unc-mask': source on, destination off"),
        "{err}"
    );
    // A property not declared sticky is never taken, whatever the policy.
    let mut other = config.clone();
    other.devices[1] = compat_core::parse_device("e1000e,id=net0,migrate-timadj=on").unwrap();
    let mut source = r82.instantiate_config(&other).unwrap();
    let bytes = source.save_with_preflight().unwrap();
    let err = incoming(&r82, &config, &bytes, &StickyPolicy::Every).unwrap_err();
    assert!(
        err.to_string()
            .contains("property 'migrate-timadj': source on, destination off"),
        "{err}"
    );
}

/// The documents' CPU example: host A has `pcid` and `stibp`, host B has
/// `taa-no`. With `-cpu host` the pre-flight names each feature the
/// destination's host lacks and the `-cpu` that hides it; with the
/// documents' own lines the guest migrates both ways.
#[test]
fn host_cpu_features_the_destination_lacks_are_named_before_any_state() {
    use compat_core::resolve::host_cpu_option;
    let [(_, a), (_, b)] = compat_examples::catalog::hosts();
    assert_eq!(host_cpu_option(&a, &b), "host,pcid=off,stibp=off");
    assert_eq!(host_cpu_option(&b, &a), "host,taa-no=off");
    let r = release("8.2");
    let on = |cpu: &str, host: &[String]| MachineConfig {
        cpu: Some(cpu.to_owned()),
        host_features: host.to_vec(),
        ..standard_config("pc-q35-8.2")
    };

    let mut source = r.instantiate_config(&on("host", &a)).unwrap();
    let mut destination = r.instantiate_config(&on("host", &b)).unwrap();
    let differences = preflight::check(&Preflight::of(&mut source), &mut destination);
    let text: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        text[..2],
        [
            "host CPU feature 'pcid': the source's guest sees it (-cpu host), the destination's \
             host lacks it (accept it with -cpu host,pcid=off,stibp=off on the source)",
            "host CPU feature 'stibp': the source's guest sees it (-cpu host), the \
             destination's host lacks it (accept it with -cpu host,pcid=off,stibp=off on the \
             source)",
        ]
    );
    assert!(differences[..2]
        .iter()
        .all(|d| d.kind == DifferenceKind::HostFeature));
    // The load refuses at the pre-flight, before the CPU's state.
    let err = destination
        .load(&source.save_with_preflight().unwrap())
        .unwrap_err();
    assert!(matches!(err.kind, LoadErrorKind::Preflight { .. }), "{err}");

    // The documents' lines: both ways, a real save and load each.
    let (line_a, line_b) = (host_cpu_option(&a, &b), host_cpu_option(&b, &a));
    for (from, host_from, to, host_to) in [(&line_a, &a, &line_b, &b), (&line_b, &b, &line_a, &a)] {
        let mut source = r.instantiate_config(&on(from, host_from)).unwrap();
        let mut destination = r.instantiate_config(&on(to, host_to)).unwrap();
        assert_eq!(
            preflight::check(&Preflight::of(&mut source), &mut destination),
            [],
            "-cpu {from} -> -cpu {to}"
        );
        destination
            .load(&source.save_with_preflight().unwrap())
            .unwrap();
    }
}

/// A property only the destination has, on at its class default, is new
/// behaviour the source never had (7.2 -> 8.0 on pc-q35-7.2, where 8.0
/// forgot the compat entry); one a compat set turned off is not (7.2 ->
/// 8.0.1). A device the machine named itself is offered without an id.
#[test]
fn a_property_only_the_destination_has_and_a_device_without_an_id() {
    let config = standard_config("pc-q35-7.2");
    let r72 = release("7.2");
    let mut source = r72.instantiate_config(&config).unwrap();
    let incoming = Preflight::of(&mut source);
    let (r80, r801) = (release("8.0"), release("8.0.1"));
    let mut on_80 = r80.instantiate_config(&config).unwrap();
    let text: Vec<String> = preflight::check(&incoming, &mut on_80)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        text.contains(
            &"device 'rp1': property 'x-pcie-err-unc-mask': source none, destination on \
              (accept it with -global pcie-root-port.x-pcie-err-unc-mask=off)"
                .to_owned()
        ),
        "{text:#?}"
    );
    let mut on_801 = r801.instantiate_config(&config).unwrap();
    assert_eq!(preflight::check(&incoming, &mut on_801), []);

    let unnamed = MachineConfig {
        devices: vec![compat_core::parse_device("e1000e").unwrap()],
        ..on("pc-q35-8.2")
    };
    let r82 = release("8.2");
    let mut source = r82.instantiate_config(&unnamed).unwrap();
    let mut bare = r82.instantiate_config(&on("pc-q35-8.2")).unwrap();
    let missing = preflight::check(&Preflight::of(&mut source), &mut bare);
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0].fix.as_deref(), Some("-device e1000e"));
    assert_eq!(missing[0].device.as_deref(), Some("e1000e[0]"));
}

/// QEMU 9.2 made `rombar` an int32 defaulting to -1 where 7.2 had a uint32
/// defaulting to 1, with no compat entry: the two behave alike without a
/// ROM file, and release 10.0 declares it (`alike = "1"`). A pre-flight
/// between 7.2 and 10.0 finds no difference in it either way; the same
/// pre-flight without the declaration names every PCI device's `rombar`.
#[test]
fn rombar_values_declared_alike_are_no_difference() {
    let config = standard_config("pc-q35-7.2");
    let (old, new) = (release("7.2"), release("10.0"));
    for (src, dst) in [(&old, &new), (&new, &old)] {
        let mut source = src.instantiate_config(&config).unwrap();
        let mut destination = dst.instantiate_config(&config).unwrap();
        let incoming = Preflight::of(&mut source);
        let differences = preflight::check(&incoming, &mut destination);
        assert!(
            differences.iter().all(|d| d.item != "rombar"),
            "{} -> {}: {differences:?}",
            src.name(),
            dst.name()
        );
    }
    // 10.0 → 7.2 with the source's declaration taken away: `-1` against
    // `1`, for the root port and e1000e (the host bridge migrates nothing
    // here, so no pre-flight lists it).
    let mut source = new.instantiate_config(&config).unwrap();
    let mut destination = old.instantiate_config(&config).unwrap();
    let mut incoming = Preflight::of(&mut source);
    for p in incoming.devices.iter_mut().flat_map(|d| &mut d.properties) {
        assert!(p.name != "rombar" || p.alike == ["-1", "1"], "{p:?}");
        p.alike.clear();
    }
    let text: Vec<String> = preflight::check(&incoming, &mut destination)
        .iter()
        .filter(|d| d.item == "rombar")
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        text,
        [
            "device 'rp1': property 'rombar': source -1, destination 1 \
             (accept it with -global pcie-root-port.rombar=-1)",
            "device 'net0': property 'rombar': source -1, destination 1 \
             (accept it with -global e1000e.rombar=-1)",
        ]
    );
}
