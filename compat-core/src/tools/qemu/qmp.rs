//! A QEMU process asked over QMP on its standard input and output: the
//! greeting, capabilities negotiation, then one command at a time. What
//! QEMU prints is outside input: each message is bounded, every wait has a
//! deadline, and text from it is escaped before anyone shows it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::text::escape::escaped;

/// The longest QMP message read (QEMU 10.0's `query-machines` with compat
/// properties is about 0.5 MB).
const MESSAGE_LIMIT: u64 = 64 << 20;

/// The longest QEMU may take to answer.
const DEADLINE: Duration = Duration::from_secs(60);

/// Why QEMU could not be asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QmpError {
    /// The command did not start.
    #[error("cannot run `{command}`: {reason}")]
    Start {
        /// The command, escaped.
        command: String,
        /// Why.
        reason: String,
    },
    /// QEMU ended, or closed its output, before answering.
    #[error("QEMU ended before answering {asked}: {stderr}")]
    Ended {
        /// What was asked.
        asked: String,
        /// The end of its standard error, escaped.
        stderr: String,
    },
    /// QEMU took longer than the deadline.
    #[error("QEMU did not answer {asked} within {} s", DEADLINE.as_secs())]
    Timeout {
        /// What was asked.
        asked: String,
    },
    /// A message that is not QMP.
    #[error("QEMU's answer to {asked} is not QMP: {reason}")]
    NotQmp {
        /// What was asked.
        asked: String,
        /// Why.
        reason: String,
    },
    /// QEMU answered with an error.
    #[error("QEMU refused {asked}: {desc}")]
    Refused {
        /// What was asked.
        asked: String,
        /// QEMU's `desc`, escaped.
        desc: String,
    },
}

/// A QEMU started with `-qmp stdio`.
pub struct Qmp {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Result<Value, String>>,
    stderr: Receiver<String>,
}

/// `command` (as a shell would split it: the user's own quoting holds)
/// followed by `args`.
pub fn qemu_command(command: &str, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("exec {command} \"$@\""))
        .arg("sh")
        .args(args);
    c
}

impl Qmp {
    /// Start `command` with `args` and QMP on standard input and output;
    /// ready once the capabilities are negotiated.
    pub fn start(command: &str, args: &[&str]) -> Result<Qmp, QmpError> {
        let mut all = args.to_vec();
        all.extend(["-qmp", "stdio"]);
        let mut child = qemu_command(command, &all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| QmpError::Start {
                command: escaped(command).to_string(),
                reason: e.to_string(),
            })?;
        let stdin = child.stdin.take();
        let (tx, messages) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            thread::spawn(move || read_messages(out, tx));
        }
        let (etx, stderr) = mpsc::channel();
        if let Some(err) = child.stderr.take() {
            thread::spawn(move || {
                let mut text = String::new();
                let _ = err.take(MESSAGE_LIMIT).read_to_string(&mut text);
                let _ = etx.send(text);
            });
        }
        let mut qmp = Qmp {
            child,
            stdin,
            messages,
            stderr,
        };
        let greeting = qmp.next("the greeting")?;
        if greeting.get("QMP").is_none() {
            return Err(QmpError::NotQmp {
                asked: "the greeting".into(),
                reason: "no QMP greeting".into(),
            });
        }
        qmp.execute("qmp_capabilities", json!({}))?;
        Ok(qmp)
    }

    /// Run `name` with `arguments`; its `return` value.
    pub fn execute(&mut self, name: &str, arguments: Value) -> Result<Value, QmpError> {
        self.send(name, &arguments)?;
        self.reply(name)
    }

    /// Run every command of `commands` (name and arguments), written at
    /// once and answered in order (QMP answers one command after another),
    /// so that a few hundred `qom-get`s cost one wait, not one each: each
    /// command's `return` value or refusal. QEMU's output is read as it
    /// comes, so a long run of replies never blocks it.
    pub fn execute_all(&mut self, commands: &[(&str, Value)]) -> Vec<Result<Value, QmpError>> {
        for (sent, (name, arguments)) in commands.iter().enumerate() {
            if let Err(e) = self.send(name, arguments) {
                // Those sent are answered; the rest are not.
                let mut out: Vec<_> = commands[..sent]
                    .iter()
                    .map(|(n, _)| self.reply(n))
                    .collect();
                out.push(Err(e));
                return out;
            }
        }
        commands.iter().map(|(name, _)| self.reply(name)).collect()
    }

    /// Write command `name` with `arguments`.
    fn send(&mut self, name: &str, arguments: &Value) -> Result<(), QmpError> {
        let message = json!({ "execute": name, "arguments": arguments });
        let sent = self
            .stdin
            .as_mut()
            .map(|s| writeln!(s, "{message}").and_then(|_| s.flush()));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.ended(format!("`{name}`"))),
        }
    }

    /// The reply to the command `name` sent before: its `return` value.
    fn reply(&mut self, name: &str) -> Result<Value, QmpError> {
        let asked = format!("`{name}`");
        let reply = self.next(&asked)?;
        if let Some(error) = reply.get("error") {
            let desc = error["desc"].as_str().unwrap_or("(no description)");
            return Err(QmpError::Refused {
                asked,
                desc: escaped(desc).to_string(),
            });
        }
        match reply.get("return") {
            Some(value) => Ok(value.clone()),
            None => Err(QmpError::NotQmp {
                asked,
                reason: "a reply without `return`".into(),
            }),
        }
    }

    /// The next message that is not an event.
    fn next(&mut self, asked: &str) -> Result<Value, QmpError> {
        let until = Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(Ok(message)) if message.get("event").is_some() => continue,
                Ok(Ok(message)) => return Ok(message),
                Ok(Err(reason)) => {
                    return Err(QmpError::NotQmp {
                        asked: asked.to_owned(),
                        reason,
                    })
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(QmpError::Timeout {
                        asked: asked.to_owned(),
                    })
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.ended(asked.to_owned())),
            }
        }
    }

    /// QEMU is gone: what it said on its way out.
    fn ended(&mut self, asked: String) -> QmpError {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let text = self
            .stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default();
        let last: Vec<&str> = text.lines().rev().take(3).collect();
        let stderr = last.into_iter().rev().collect::<Vec<_>>().join(" | ");
        QmpError::Ended {
            asked,
            stderr: escaped(&stderr).to_string(),
        }
    }

    /// Quit QEMU and wait for it.
    pub fn quit(mut self) {
        let _ = self.execute("quit", json!({}));
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Qmp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Each line of QEMU's output that is a JSON object, in order; a line past
/// the limit or not JSON ends the reading with why.
fn read_messages(out: impl Read, tx: mpsc::Sender<Result<Value, String>>) {
    let mut reader = BufReader::new(out);
    loop {
        let mut line = Vec::new();
        match reader
            .by_ref()
            .take(MESSAGE_LIMIT)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if !line.ends_with(b"\n") && line.len() as u64 >= MESSAGE_LIMIT {
            let _ = tx.send(Err(format!("a message over {MESSAGE_LIMIT} bytes")));
            return;
        }
        let message = match serde_json::from_slice::<Value>(&line) {
            Ok(v @ Value::Object(_)) => Ok(v),
            // Text QEMU prints besides QMP (a warning on stdout): skipped.
            Ok(_) | Err(_) if !line.trim_ascii_start().starts_with(b"{") => continue,
            Ok(_) => Err("a message that is not an object".to_owned()),
            Err(e) => Err(format!("invalid JSON: {e}")),
        };
        let stop = message.is_err();
        if tx.send(message).is_err() || stop {
            return;
        }
    }
}
