//! Real QEMU processes as an oracle: find the two installed versions, start
//! one with a command line, talk QMP to it over its standard input and
//! output, save a migration stream to a file and load one from a file.
//!
//! `scripts/real-qemu/install.sh` installs QEMU 5.2 (`/opt/qemu52/qemu52`,
//! in a bullseye root), 7.2 (the system's `/usr/bin/qemu-system-x86_64`),
//! 10.0 (`/opt/qemu10/qemu10`) and 11.1 (`/opt/qemu111/qemu111`, in a sid
//! root); `COMPAT_QEMU52`, `COMPAT_QEMU72`, `COMPAT_QEMU10` and
//! `COMPAT_QEMU111` name other binaries. 5.2 and 11.1 run chrooted and see
//! the host's `/tmp` only: the files they read and write lie there.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A QEMU version the tests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// QEMU 5.2.0, Debian bullseye's package.
    V5_2,
    /// QEMU 7.2.22, Debian bookworm's package.
    V7_2,
    /// QEMU 10.0.2, Debian's bookworm backport.
    V10_0,
    /// QEMU 11.1.3, Debian sid's package.
    V11_1,
}

impl Version {
    /// The four, oldest first.
    pub const LADDER: [Version; 4] = [Version::V5_2, Version::V7_2, Version::V10_0, Version::V11_1];

    /// `5.2`, `7.2`, `10.0` or `11.1`.
    pub fn name(self) -> &'static str {
        match self {
            Version::V5_2 => "5.2",
            Version::V7_2 => "7.2",
            Version::V10_0 => "10.0",
            Version::V11_1 => "11.1",
        }
    }

    /// The full version `--version` prints.
    pub fn full(self) -> &'static str {
        match self {
            Version::V5_2 => "5.2.0",
            Version::V7_2 => "7.2.22",
            Version::V10_0 => "10.0.2",
            Version::V11_1 => "11.1.3",
        }
    }

    fn variable(self) -> &'static str {
        match self {
            Version::V5_2 => "COMPAT_QEMU52",
            Version::V7_2 => "COMPAT_QEMU72",
            Version::V10_0 => "COMPAT_QEMU10",
            Version::V11_1 => "COMPAT_QEMU111",
        }
    }

    fn default_binary(self) -> &'static str {
        match self {
            Version::V5_2 => "/opt/qemu52/qemu52",
            Version::V7_2 => "/usr/bin/qemu-system-x86_64",
            Version::V10_0 => "/opt/qemu10/qemu10",
            Version::V11_1 => "/opt/qemu111/qemu111",
        }
    }
}

/// An installed real QEMU.
#[derive(Debug, Clone)]
pub struct RealQemu {
    /// Which version it is.
    pub version: Version,
    /// The binary (or wrapper) to run.
    pub binary: PathBuf,
}

/// How long a QEMU process may take before it is killed: a hung process
/// fails its test instead of hanging the suite.
const DEADLINE: Duration = Duration::from_secs(60);

impl RealQemu {
    /// The installed QEMU `version`, or `None` when it is not installed.
    pub fn installed(version: Version) -> Option<RealQemu> {
        let binary = std::env::var_os(version.variable())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(version.default_binary()));
        let out = Command::new(&binary).arg("--version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let wanted = format!("QEMU emulator version {}", version.full());
        text.starts_with(&wanted)
            .then_some(RealQemu { version, binary })
    }

    /// The installed QEMU `version` for a test of `what`; `None` after
    /// saying the test is skipped. When `COMPAT_REQUIRE_QEMU` is set (CI
    /// sets it after installing QEMU), a missing QEMU fails the test.
    pub fn for_test(version: Version, what: &str) -> Option<RealQemu> {
        let found = RealQemu::installed(version);
        if found.is_none() {
            let why = format!(
                "real QEMU {} is not installed (scripts/real-qemu/install.sh installs it, as root; \
                 {} names another binary)",
                version.full(),
                version.variable()
            );
            assert!(
                std::env::var_os("COMPAT_REQUIRE_QEMU").is_none(),
                "COMPAT_REQUIRE_QEMU is set, but {what}: {why}"
            );
            eprintln!("SKIPPED: {what}: {why}");
        }
        found
    }

    /// The four releases of the ladder, oldest first, for a test of `what`;
    /// `None` after saying the test is skipped (or failing it, as
    /// [`for_test`](Self::for_test) does).
    pub fn ladder_for_test(what: &str) -> Option<Vec<RealQemu>> {
        Version::LADDER
            .into_iter()
            .map(|v| RealQemu::for_test(v, what))
            .collect()
    }

    /// Start QEMU with `args` after the options every run shares (no
    /// default devices, no display, TCG, 64 MiB) and QMP on standard
    /// input and output.
    pub fn start(&self, args: &[String]) -> Process {
        let mut child = Command::new(&self.binary)
            .args([
                "-nodefaults",
                "-display",
                "none",
                "-accel",
                "tcg",
                "-m",
                "64",
            ])
            .args(args)
            .args(["-qmp", "stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().map(BufReader::new);
        let mut process = Process {
            child,
            stdin,
            stdout,
            started: Instant::now(),
            greeted: false,
            events: Vec::new(),
            text: String::new(),
        };
        // The greeting, then capabilities negotiation; a QEMU that refused
        // its command line has closed its output by then.
        if process.read_reply().is_some() {
            process.greeted = true;
            process.command("qmp_capabilities", json!({}));
        }
        process
    }

    /// Run `args` as a command line: start, run each QMP command of
    /// `commands`, quit; what happened.
    pub fn run(&self, args: &[String], commands: &[Value]) -> Outcome {
        let mut p = self.start(args);
        let mut replies = Vec::new();
        if p.alive() {
            for c in commands {
                match p.send(c) {
                    Some(reply) => replies.push(reply),
                    None => break,
                }
            }
            p.send(&json!({"execute": "quit"}));
        }
        let mut outcome = p.finish();
        outcome.replies = replies;
        outcome
    }

    /// Start paused with `args`, migrate to `file`, quit. `Ok` when the
    /// migration completed, else what QEMU said.
    pub fn save(&self, args: &[String], file: &Path) -> Result<(), String> {
        let mut all = vec!["-S".to_owned()];
        all.extend_from_slice(args);
        let mut p = self.start(&all);
        let uri = format!("exec:cat > '{}'", file.display());
        p.command("migrate", json!({ "uri": uri }));
        let status = p.wait_migration();
        p.send(&json!({"execute": "quit"}));
        let outcome = p.finish();
        if status.as_deref() == Some("completed") {
            Ok(())
        } else {
            Err(format!(
                "migration status {status:?}; stderr: {}",
                outcome.stderr.join(" | ")
            ))
        }
    }

    /// Start with `args` and `-incoming` from `file`; the migration's end:
    /// `Ok` when it completed (the run state then), else QEMU's error lines.
    pub fn load(&self, args: &[String], file: &Path) -> LoadOutcome {
        let mut all = args.to_vec();
        all.push("-incoming".to_owned());
        all.push(format!("exec:cat '{}'", file.display()));
        let mut p = self.start(&all);
        let status = p.wait_migration();
        let run_state = p
            .command("query-status", json!({}))
            .and_then(|r| r["return"]["status"].as_str().map(str::to_owned));
        p.send(&json!({"execute": "quit"}));
        let outcome = p.finish();
        LoadOutcome {
            completed: status.as_deref() == Some("completed"),
            run_state,
            errors: outcome.stderr,
        }
    }
}

impl RealQemu {
    /// What `-M machine -dump-vmstate` writes: every device type's VMState
    /// description, as JSON text.
    pub fn dump_vmstate(&self, machine: &str) -> Result<String, String> {
        static DUMPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = DUMPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Under /tmp: the chrooted releases see the host's /tmp only.
        let file = PathBuf::from("/tmp").join(format!(
            "compat-dump-{}-{n}-{}.json",
            std::process::id(),
            self.version.name()
        ));
        let out = Command::new(&self.binary)
            .args([
                "-nodefaults",
                "-display",
                "none",
                "-M",
                machine,
                "-dump-vmstate",
            ])
            .arg(&file)
            .output()
            .map_err(|e| format!("{}: {e}", self.binary.display()))?;
        let text = std::fs::read_to_string(&file);
        std::fs::remove_file(&file).ok();
        match (out.status.success(), text) {
            (true, Ok(text)) => Ok(text),
            (_, text) => Err(format!(
                "-dump-vmstate: {}; {:?}",
                String::from_utf8_lossy(&out.stderr),
                text.err()
            )),
        }
    }

    /// Start with `args` and `-incoming` from `from`, then, once the load
    /// completed, save to `to`: what QEMU writes of the state it loaded.
    pub fn relay(&self, args: &[String], from: &Path, to: &Path) -> Result<(), String> {
        let mut all = args.to_vec();
        all.push("-incoming".to_owned());
        all.push(format!("exec:cat '{}'", from.display()));
        let mut p = self.start(&all);
        let loaded = p.wait_migration();
        let saved = if loaded.as_deref() == Some("completed") {
            let uri = format!("exec:cat > '{}'", to.display());
            p.command("migrate", json!({ "uri": uri }));
            p.wait_migration()
        } else {
            None
        };
        p.send(&json!({"execute": "quit"}));
        let outcome = p.finish();
        match (loaded.as_deref(), saved.as_deref()) {
            (Some("completed"), Some("completed")) => Ok(()),
            _ => Err(format!(
                "load {loaded:?}, save {saved:?}; stderr: {}",
                outcome.stderr.join(" | ")
            )),
        }
    }
}

/// What a run of QEMU did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its exit code (`None`: killed by a signal, e.g. an abort).
    pub exit: Option<i32>,
    /// Whether it started: its QMP monitor answered.
    pub started: bool,
    /// The replies to the commands given, in order.
    pub replies: Vec<Value>,
    /// Its standard error, line by line, without the program name prefix.
    pub stderr: Vec<String>,
    /// Its standard output besides QMP (help texts).
    pub stdout: String,
}

/// The end of an incoming migration from a file.
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    /// `query-migrate` said `completed`.
    pub completed: bool,
    /// `query-status` afterwards, when QEMU was still running.
    pub run_state: Option<String>,
    /// QEMU's standard error lines, program name removed.
    pub errors: Vec<String>,
}

/// A running QEMU with QMP on its standard input and output.
pub struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<BufReader<ChildStdout>>,
    started: Instant,
    greeted: bool,
    events: Vec<Value>,
    /// Lines of standard output that are not QMP (help texts).
    text: String,
}

impl Process {
    /// Whether QMP still answers.
    pub fn alive(&self) -> bool {
        self.stdout.is_some()
    }

    /// Send `{"execute": name, "arguments": arguments}`; the reply.
    pub fn command(&mut self, name: &str, arguments: Value) -> Option<Value> {
        self.send(&json!({ "execute": name, "arguments": arguments }))
    }

    /// Send one QMP command; its reply (`None` once QEMU has gone).
    pub fn send(&mut self, command: &Value) -> Option<Value> {
        let stdin = self.stdin.as_mut()?;
        if writeln!(stdin, "{command}")
            .and_then(|_| stdin.flush())
            .is_err()
        {
            self.stdin = None;
            return None;
        }
        self.read_reply()
    }

    /// The next message that is not an event.
    fn read_reply(&mut self) -> Option<Value> {
        loop {
            assert!(
                self.started.elapsed() < DEADLINE,
                "QEMU took longer than {DEADLINE:?}"
            );
            let stdout = self.stdout.as_mut()?;
            let mut line = String::new();
            match stdout.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    self.stdout = None;
                    return None;
                }
                Ok(_) => {}
            }
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                self.text.push_str(&line);
                continue;
            };
            if message.get("event").is_some() {
                self.events.push(message);
                continue;
            }
            return Some(message);
        }
    }

    /// Poll `query-migrate` until it leaves its running states; the final
    /// status (`None` when QEMU exited meanwhile).
    fn wait_migration(&mut self) -> Option<String> {
        loop {
            let reply = self.command("query-migrate", json!({}))?;
            let status = reply["return"]["status"]
                .as_str()
                .unwrap_or("none")
                .to_owned();
            if !matches!(
                status.as_str(),
                "setup" | "active" | "device" | "pre-switchover" | "none"
            ) {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
            // An incoming migration reports "none" until the stream is
            // being read; a QEMU that failed the load exits instead.
            assert!(
                self.started.elapsed() < DEADLINE,
                "QEMU's migration took longer than {DEADLINE:?}"
            );
        }
    }

    /// Wait for the process to end (killing it past the deadline); what it
    /// did.
    pub fn finish(mut self) -> Outcome {
        drop(self.stdin.take());
        let mut rest = String::new();
        if let Some(mut out) = self.stdout.take() {
            let _ = out.read_to_string(&mut rest);
        }
        let mut stdout = std::mem::take(&mut self.text);
        for line in rest.lines().filter(|l| !l.starts_with('{')) {
            stdout.push_str(line);
            stdout.push('\n');
        }
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for QEMU") {
                break status;
            }
            if self.started.elapsed() > DEADLINE {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        Outcome {
            exit: status.code(),
            started: self.greeted,
            replies: Vec::new(),
            stderr: err
                .lines()
                .map(|l| {
                    l.strip_prefix("qemu-system-x86_64: ")
                        .unwrap_or(l)
                        .to_owned()
                })
                .filter(|l| !l.contains("libvirglrenderer"))
                .collect(),
            stdout,
        }
    }
}

/// One case of `option-cases.jsonl`: the options of a command line and the
/// properties to read back from the started machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionCase {
    /// The items as written.
    pub items: Vec<String>,
    /// The options, `(name, value)`: `("-device", "e1000e,id=x")`.
    pub options: Vec<(String, String)>,
    /// The properties to read back, `(device id, property)`.
    pub reads: Vec<(String, String)>,
}

/// The machine type a case runs on unless it gives `-M`.
pub const DEFAULT_MACHINE: &str = "pc-q35-10.0";

impl OptionCase {
    /// Every case of a file: one JSON array of strings a line, `#` lines
    /// are comments.
    pub fn parse_all(text: &str) -> Result<Vec<OptionCase>, String> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|(n, line)| {
                let items: Vec<String> =
                    serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
                let mut case = OptionCase {
                    items: items.clone(),
                    options: Vec::new(),
                    reads: Vec::new(),
                };
                for item in items {
                    if let Some(read) = item.strip_prefix('?') {
                        let (id, property) = read
                            .split_once('.')
                            .ok_or_else(|| format!("line {}: expected ?ID.PROPERTY", n + 1))?;
                        case.reads.push((id.to_owned(), property.to_owned()));
                    } else {
                        let (name, value) = item
                            .split_once(' ')
                            .filter(|(name, _)| name.starts_with('-'))
                            .ok_or_else(|| format!("line {}: expected '-OPTION VALUE'", n + 1))?;
                        case.options.push((name.to_owned(), value.to_owned()));
                    }
                }
                Ok(case)
            })
            .collect()
    }

    /// The machine type: the last `-M`, or [`DEFAULT_MACHINE`].
    pub fn machine(&self) -> &str {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == "-M")
            .map_or(DEFAULT_MACHINE, |(_, v)| v)
    }

    /// The QEMU command line: `-M` first, then the other options.
    pub fn command_line(&self) -> Vec<String> {
        let mut args = vec!["-M".to_owned(), self.machine().to_owned()];
        for (name, value) in self.options.iter().filter(|(n, _)| n != "-M") {
            args.push(name.clone());
            args.push(value.clone());
        }
        args
    }
}
