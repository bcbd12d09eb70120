//! No import cycle between the storage modules: the test reads `src/` at test time, takes
//! every top-level module (a file `x.rs` or a folder `x/`), collects the modules each one
//! names through a `crate::` path (in `use` lines and inline paths, comments left out) and
//! fails on any cycle, naming it. The crate root (`lib.rs`: `Store`, `Result`, the
//! re-exports) is not a node. Areas may use the kernel, `schema`, `audit`, `crypto`, `keys`;
//! the kernel uses no area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const PREFIX: &str = concat!("crate", "::");

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The text of a module without comment lines.
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segments named after `crate::` (one for a path, several for a
/// `crate::{a, b::c}` group).
fn named(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(PREFIX) {
        rest = &rest[i + PREFIX.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut at_start = true;
            let mut ident = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    _ => {}
                }
                if at_start && depth == 0 {
                    if is_ident(c) {
                        ident.push(c);
                    } else if !ident.is_empty() {
                        out.insert(std::mem::take(&mut ident));
                        at_start = false;
                    }
                }
            }
        } else {
            let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            out.insert(ident);
        }
    }
    out
}

fn read_modules(src: &Path) -> BTreeMap<String, String> {
    let mut mods = BTreeMap::new();
    for e in std::fs::read_dir(src).expect("src/") {
        let p = e.expect("entry").path();
        let name = p
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_string();
        if p.is_dir() {
            let mut text = String::new();
            for f in std::fs::read_dir(&p).expect("module folder") {
                let f = f.expect("entry").path();
                if f.extension().is_some_and(|x| x == "rs") {
                    text.push_str(&std::fs::read_to_string(&f).expect("read"));
                    text.push('\n');
                }
            }
            mods.insert(name, text);
        } else if p.extension().is_some_and(|x| x == "rs") && name != "lib" {
            mods.insert(name, std::fs::read_to_string(&p).expect("read"));
        }
    }
    mods
}

fn graph(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    mods.iter()
        .map(|(m, text)| {
            let deps = named(&code(text))
                .into_iter()
                .filter(|d| d != m && mods.contains_key(d))
                .collect();
            (m.clone(), deps)
        })
        .collect()
}

/// One cycle of the graph, if there is any (depth-first search).
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(c) = visit(n, g, &mut done, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_import_cycles_between_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&read_modules(&src));
    assert!(g.contains_key("kernel") && g.contains_key("cases"), "{g:?}");
    if let Some(c) = find_cycle(&g) {
        panic!("import cycle between storage modules: {}", c.join(" -> "));
    }
    // The kernel names no area module.
    for area in [
        "cases",
        "assistance",
        "followup",
        "identification",
        "record",
        "referrals",
    ] {
        assert!(!g["kernel"].contains(area), "kernel uses {area}");
    }
}

#[test]
fn the_check_sees_a_cycle() {
    let mut mods = BTreeMap::new();
    mods.insert("a".to_string(), format!("use {PREFIX}{{b::X, Result}};"));
    mods.insert("b".to_string(), format!("fn f() {{ {PREFIX}c::g() }}"));
    mods.insert(
        "c".to_string(),
        format!("// {PREFIX}a is only a comment\nuse {PREFIX}a::Y;"),
    );
    let c = find_cycle(&graph(&mods)).expect("a cycle");
    assert_eq!(c, ["a", "b", "c", "a"]);
    mods.insert("c".to_string(), format!("// {PREFIX}a::Y"));
    assert_eq!(find_cycle(&graph(&mods)), None);
}
