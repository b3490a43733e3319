//! The core's modules are layers: each may use only the layers below it
//! (ARCHITECTURE.md). This reads every source file of `compat-core` and
//! checks each `crate::` path it names against that order, so an upward
//! import — and with it any import circle — fails the build's tests.

use std::path::{Path, PathBuf};

/// The layers of `compat-core/src`, lowest first.
const LAYERS: [&str; 12] = [
    "text",
    "codec",
    "property",
    "vmstate",
    "stream",
    "device",
    "compat",
    "machine",
    "release",
    "resolve",
    "migration",
    "tools",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == module)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The leading identifier of `text`.
fn ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level modules some code names with `prefix` (`crate::`, or the
/// crate's own name, which `extern crate self as compat_core` makes a
/// second way to the root), including each branch of a `use crate::{a::X,
/// b::{Y, Z}}` group, over several lines.
fn named_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in ["crate::", "compat_core::"] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            // `compat_core::` inside a longer name is not the crate.
            let preceded = rest[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            rest = &rest[i + prefix.len()..];
            if !preceded {
                out.extend(after_root(rest));
            }
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// The top-level modules named right after a path reached the crate root:
/// one name, or each branch of a `{...}` group.
fn after_root(rest: &str) -> Vec<String> {
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    // Split the group at its top-level commas.
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (j, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(ident(&group[start..j]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(ident(&group[start..j]));
                start = j + 1;
            }
            _ => {}
        }
    }
    out
}

/// The top-level modules some code reaches by climbing with `super::` out
/// of its own layer to the crate root: in a file whose module path is
/// `path` (`["vmstate", "desc"]`), `super::super::release` names
/// `release`. Inline modules (`mod tests { ... }`) add a level each.
fn climbed_modules(code: &str, path: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    // The brace depths at which inline modules opened.
    let mut modules: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &code[i..];
        let at_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if at_word && rest.starts_with("mod ") {
            let after = rest["mod ".len()..].trim_start();
            let name = ident(after);
            if after[name.len()..].trim_start().starts_with('{') {
                modules.push(depth + 1);
            }
        }
        if at_word && rest.starts_with("super::") {
            let mut climbs = 0;
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                climbs += 1;
                tail = t;
            }
            let level = path.len() + modules.len();
            if climbs >= level {
                out.extend(after_root(tail));
            }
            i += rest.len() - tail.len();
            continue;
        }
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                if modules.last() == Some(&depth) {
                    modules.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        i += 1;
    }
    out.retain(|m| !m.is_empty());
    out
}

/// The module path of a source file under `compat-core/src`:
/// `vmstate/desc.rs` is `["vmstate", "desc"]`, `vmstate/mod.rs` is
/// `["vmstate"]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_str()
                .unwrap()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The names the crate root re-exports from a layer (`pub use
/// resolve::{Machine, ...};` at the top level of `lib.rs`), with that
/// layer: `crate::Machine` is an import of `resolve` as much as
/// `crate::resolve::Machine` is.
fn root_reexports(lib: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for statement in lib.split(';') {
        // Top-level items only: the `__private` module's own re-exports
        // are indented.
        let Some(path) = statement.trim_start_matches('\n').strip_prefix("pub use ") else {
            continue;
        };
        let module = ident(path);
        if rank(&module).is_none() {
            continue;
        }
        let names = match path.find('{') {
            Some(open) => path[open + 1..].trim_end_matches('}').to_owned(),
            None => path.rsplit("::").next().unwrap_or("").to_owned(),
        };
        for name in names.split(',').map(ident).filter(|n| !n.is_empty()) {
            out.push((name, module.clone()));
        }
    }
    out
}

/// Every import in `files` (each a path under `compat-core/src` and its
/// text) of a layer higher than the file's own, as `file: 'a' uses the
/// higher layer 'b'`; `lib` is the crate root's text.
fn violations(lib: &str, files: &[(PathBuf, String)]) -> Vec<String> {
    let reexports = root_reexports(lib);
    let layer_of = |named: &str| {
        rank(named).or_else(|| {
            reexports
                .iter()
                .find(|(n, _)| n == named)
                .and_then(|(_, m)| rank(m))
        })
    };
    let mut out = Vec::new();
    for (relative, text) in files {
        let path = module_path(relative);
        let module = path[0].as_str();
        if module == "lib" {
            continue; // the crate root re-exports every layer
        }
        let own = rank(module)
            .unwrap_or_else(|| panic!("{}: module '{module}' is in no layer", relative.display()));
        // The code without its comments (doc comments name paths that
        // are links, not imports).
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let named = named_modules(&code)
            .into_iter()
            .chain(climbed_modules(&code, &path));
        for named in named {
            // `crate::__private` and the like are the crate root's.
            let Some(other) = layer_of(&named) else {
                continue;
            };
            if other > own {
                out.push(format!(
                    "{}: '{module}' uses the higher layer '{named}'",
                    relative.display()
                ));
            }
        }
    }
    out
}

/// The crate root's text and every other source file of `compat-core/src`.
fn core_sources() -> (String, Vec<(PathBuf, String)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compat-core/src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let texts = files
        .iter()
        .map(|f| {
            let relative = f.strip_prefix(&root).unwrap().to_owned();
            (relative, std::fs::read_to_string(f).unwrap())
        })
        .collect();
    (std::fs::read_to_string(root.join("lib.rs")).unwrap(), texts)
}

#[test]
fn no_module_of_core_uses_a_higher_layer() {
    let (lib, files) = core_sources();
    let reexports = root_reexports(&lib);
    assert!(
        reexports
            .iter()
            .any(|(n, m)| n == "MachineConfig" && m == "resolve"),
        "{reexports:?}"
    );
    assert!(files.len() > 30, "read {} files", files.len());
    let violations = violations(&lib, &files);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The check on the real sources with one probe file added: an upward
/// import written any of the ways Rust allows is found.
#[test]
fn a_probe_with_an_upward_import_fails_the_check() {
    let (lib, mut files) = core_sources();
    let probes = [
        "use compat_core::release::Release;\n",
        "use ::compat_core::{codec::LoadError, resolve::Machine};\n",
        "fn f() { let _ = super::super::machine::MachineType::name; }\n",
        "use crate::migration::check;\n",
    ];
    for probe in probes {
        files.push((PathBuf::from("vmstate/probe.rs"), probe.to_owned()));
        let found = violations(&lib, &files);
        assert_eq!(found.len(), 1, "{probe}: {found:?}");
        assert!(
            found[0].starts_with("vmstate/probe.rs: 'vmstate' uses the higher layer"),
            "{found:?}"
        );
        files.pop();
    }
    // Climbing within the layer, and out of an inline test module to its
    // own layer, is no violation.
    for fine in [
        "use super::desc::Scalar;\n",
        "mod tests {\n    use super::super::layout::Layout;\n}\n",
        "use compat_core_like::x;\n",
    ] {
        files.push((PathBuf::from("vmstate/probe.rs"), fine.to_owned()));
        assert!(violations(&lib, &files).is_empty(), "{fine}");
        files.pop();
    }
}

#[test]
fn the_check_sees_an_upward_import() {
    assert_eq!(
        named_modules(
            "use crate::{\n    machine::{MachineType, Version},\n    stream::StreamFormat,\n};"
        ),
        ["machine", "stream"]
    );
    assert_eq!(
        named_modules("    let x = crate::release::Release::name;"),
        ["release"]
    );
    // A name the crate root re-exports is its layer's.
    let lib = "pub use stream::StreamFormat;\npub use resolve::{Machine,\n    Source};\n\
               pub mod __private {\n    pub use crate::codec::LoadError;\n}";
    assert_eq!(
        root_reexports(lib),
        [
            ("StreamFormat".to_owned(), "stream".to_owned()),
            ("Machine".to_owned(), "resolve".to_owned()),
            ("Source".to_owned(), "resolve".to_owned()),
        ]
    );
}
