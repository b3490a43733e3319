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

/// The top-level modules some code names with `crate::`, including each
/// branch of a `use crate::{a::X, b::{Y, Z}}` group, over several lines.
fn named_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Split the group at its top-level commas.
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
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
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

#[test]
fn no_module_of_core_uses_a_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compat-core/src");
    let reexports = root_reexports(&std::fs::read_to_string(root.join("lib.rs")).unwrap());
    assert!(
        reexports
            .iter()
            .any(|(n, m)| n == "MachineConfig" && m == "resolve"),
        "{reexports:?}"
    );
    let layer_of = |named: &str| {
        rank(named).or_else(|| {
            reexports
                .iter()
                .find(|(n, _)| n == named)
                .and_then(|(_, m)| rank(m))
        })
    };
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut seen = 0;
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs");
        if module == "lib" {
            continue; // the crate root re-exports every layer
        }
        let own = rank(module)
            .unwrap_or_else(|| panic!("{}: module '{module}' is in no layer", relative.display()));
        seen += 1;
        // The code without its comments (doc comments name paths that
        // are links, not imports).
        let code: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for named in named_modules(&code) {
            // `crate::__private` and the like are the crate root's.
            let Some(other) = layer_of(&named) else {
                continue;
            };
            if other > own {
                violations.push(format!(
                    "{}: '{module}' uses the higher layer '{named}'",
                    relative.display()
                ));
            }
        }
    }
    assert!(seen > 30, "read {seen} files");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
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
