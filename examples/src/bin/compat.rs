//! `compat`: the command-line face of the framework, on the example devices.
//!
//! This step knows device types and `-device` strings; machine types,
//! releases, explain, analyze and the migration matrix come with them.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use compat_core::cmdline::parse_device;
use compat_core::TypeRegistry;
use compat_examples::devices;

#[derive(Parser)]
#[command(
    name = "compat",
    version,
    about = "Declarative devices and migration compatibility"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the example device types with their parents.
    Types,
    /// Print a device type's properties, as `-device TYPE,help` does.
    DeviceHelp {
        /// The device type name.
        driver: String,
    },
    /// Create a device from a `-device` string and print every property.
    Device {
        /// The `-device` argument, e.g. `virtio-blk-device,num-queues=4`.
        spec: String,
    },
    /// The demo of this step: the example tables and a few `-device` strings.
    Demo,
    /// The seeds' migration matrix: every pair of releases, every machine
    /// type, a real save and load each.
    Matrix {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Only this machine type (`-M` name).
        #[arg(short = 'M', long)]
        machine: Option<String>,
    },
    /// Read a migration stream (QEMU's or ours) and print its sections.
    Analyze {
        /// The stream file.
        file: std::path::PathBuf,
        /// Print what `analyze-migration.py -f FILE` prints.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("compat: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<String, String> {
    let registry = devices::registry().map_err(|e| e.to_string())?;
    match command {
        Command::Types => Ok(types(&registry)),
        Command::DeviceHelp { driver } => {
            Ok(registry.lookup(&driver).map_err(|e| e.to_string())?.help())
        }
        Command::Device { spec } => device(&registry, &spec),
        Command::Demo => Ok(demo(&registry)),
        Command::Analyze { file, json } => analyze(&file, json),
        Command::Matrix { json, machine } => matrix(json, machine.as_deref()),
    }
}

/// The migration matrix, all of it or one machine type's table.
fn matrix(json: bool, machine: Option<&str>) -> Result<String, String> {
    use compat_examples::{matrix, releases};
    let (tables, scenarios) = match machine {
        None => (matrix::matrix(), matrix::scenarios()),
        Some(m) => {
            let all = releases::all();
            if !all.iter().any(|r| r.machine(m).is_ok()) {
                let names = matrix::machine_names(&all);
                return Err(format!(
                    "no release knows machine type '{m}'{}",
                    compat_core::suggest::did_you_mean(m, names.iter().map(String::as_str))
                ));
            }
            (vec![matrix::machine_matrix(&all, m)], Vec::new())
        }
    };
    if json {
        let mut text = serde_json::to_string_pretty(&matrix::to_json(&tables, &scenarios))
            .map_err(|e| e.to_string())?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(matrix::render(&tables, &scenarios))
    }
}

/// The sections of a stream file, or its `analyze-migration.py` JSON.
fn analyze(file: &std::path::Path, json: bool) -> Result<String, String> {
    use compat_core::stream::qemu::{analyze_text, Body, QemuStream};
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let stream = QemuStream::parse(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    if json {
        return Ok(analyze_text(&stream.analyze()));
    }
    let mut out = format!(
        "{}: QEMU migration stream, version 3, {} bytes\nmachine type: {}\n",
        file.display(),
        bytes.len(),
        stream.machine().unwrap_or("(no configuration section)")
    );
    out.push_str(&format!(
        "{:>7}  {:<40} {:>8} {:>7}  contents\n",
        "section", "idstr", "instance", "version"
    ));
    for (id, h, body) in stream.sections() {
        let contents = match body {
            Body::Ram(entries) => {
                let blocks: usize = entries.iter().map(|e| e.blocks.len()).sum();
                format!("RAM: {blocks} blocks")
            }
            Body::Device(d) => format!(
                "{} fields, {} subsections",
                d.fields.len(),
                d.subsections.len()
            ),
        };
        out.push_str(&format!(
            "{id:>7}  {:<40} {:>8} {:>7}  {contents}\n",
            h.idstr, h.instance_id, h.version_id
        ));
    }
    match &stream.vmdesc {
        Some(v) => out.push_str(&format!("vmdesc trailer: {} bytes of JSON\n", v.raw.len())),
        None => out.push_str("no vmdesc trailer\n"),
    }
    Ok(out)
}

fn types(registry: &TypeRegistry) -> String {
    let mut out = String::new();
    for ty in registry.types() {
        let parent = ty.parent.map(|p| p.name).unwrap_or("-");
        let flags = if ty.is_abstract { " (abstract)" } else { "" };
        out.push_str(&format!("{:<20} parent {parent}{flags}\n", ty.name));
    }
    out
}

/// Create the device and apply the options in order, as `qdev_device_add`
/// does, then print every property, inherited ones first.
fn device(registry: &TypeRegistry, spec: &str) -> Result<String, String> {
    let opt = parse_device(spec).map_err(|e| e.to_string())?;
    let mut dev = registry.create(&opt.driver).map_err(|e| e.to_string())?;
    for p in &opt.properties {
        dev.set_str(&p.key, &p.value).map_err(|e| e.to_string())?;
    }
    let mut out = opt.driver.clone();
    if let Some(id) = &opt.id {
        out.push_str(&format!(" (id {id})"));
    }
    out.push('\n');
    for (owner, p) in dev.type_info().all_properties() {
        let value = dev.get(p.name).map_err(|e| e.to_string())?;
        let set = opt.properties.iter().any(|o| o.key == p.name);
        let origin = if set {
            "-device".to_owned()
        } else {
            format!("default of {}", owner.name)
        };
        out.push_str(&format!(
            "  {:<16} = {:<8} ({origin})\n",
            p.name,
            value.to_string()
        ));
    }
    Ok(out)
}

fn demo(registry: &TypeRegistry) -> String {
    let mut out = String::from("== device types ==\n");
    out.push_str(&types(registry));
    out.push_str("\n== -device virtio-blk-device,help ==\n");
    if let Ok(ty) = registry.lookup("virtio-blk-device") {
        out.push_str(&ty.help());
    }
    for spec in [
        "virtio-blk-device,id=blk0,num-queues=4,request-merging=off",
        "virtio-blk-device,num-queues=70000",
        "virtio-blk-device,num_queues=2",
        "virtio-blk,num-queues=2",
    ] {
        out.push_str(&format!("\n== -device {spec} ==\n"));
        match device(registry, spec) {
            Ok(text) => out.push_str(&text),
            Err(e) => out.push_str(&format!("error: {e}\n")),
        }
    }
    out
}
