//! Guard: SQL rows are read by column name (or into `sqlx::FromRow` structs), never by
//! position. A positional read silently shifts when a column is added to a SELECT list; this
//! test scans the crate's own sources and fails naming every `file:line` that reads a row
//! column by a literal index.

use std::path::{Path, PathBuf};

/// Lines still reading by position in code another branch is moving (the storage kernel:
/// `case_facts`, `case_key`), matched by their trimmed text so they keep matching after the
/// move. Remove an entry when its line is converted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Does `line` call `try_get` or `get` (optionally with a turbofish) with a literal index?
fn positional_read(line: &str) -> bool {
    let b = line.as_bytes();
    for method in ["try_get", ".get"] {
        let mut from = 0;
        while let Some(at) = line[from..].find(method) {
            let start = from + at;
            from = start + method.len();
            // `try_get` must not be the tail of a longer identifier.
            if method == "try_get"
                && start > 0
                && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_')
            {
                continue;
            }
            let mut i = from;
            // Skip a turbofish `::<…>` with nested angle brackets.
            if line[i..].starts_with("::<") {
                let mut depth = 0usize;
                while i < b.len() {
                    match b[i] {
                        b'<' => depth += 1,
                        b'>' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            if b.get(i) != Some(&b'(') {
                continue;
            }
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            if b.get(i).is_some_and(u8::is_ascii_digit) {
                return true;
            }
        }
    }
    false
}

#[test]
fn guard_detects_positional_reads() {
    let idx = "0";
    assert!(positional_read(&format!(
        "let a: String = r.try_get({idx})?;"
    )));
    assert!(positional_read(&format!(
        "x: r.try_get::<Option<Vec<u8>>, _>({idx})?,"
    )));
    assert!(positional_read(&format!("let n: i64 = row.get( {idx});")));
    assert!(!positional_read(r#"let a: String = r.try_get("id")?;"#));
    assert!(!positional_read(r#"r.try_get::<Option<i64>, _>("seq")?"#));
    assert!(!positional_read("values.get(&id)"));
    assert!(!positional_read("slots.get(i)"));
}

#[test]
fn no_positional_column_reads() -> std::io::Result<()> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files)?;
    files.sort();
    let this = Path::new(file!()).file_name();
    let mut found = Vec::new();
    for file in &files {
        if file.file_name() == this {
            continue;
        }
        let text = std::fs::read_to_string(file)?;
        for (n, line) in text.lines().enumerate() {
            if positional_read(line) {
                let shown = file.strip_prefix(&src).unwrap_or(file);
                found.push(format!(
                    "src/{}:{}: {}",
                    shown.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "read row columns by name (`r.try_get(\"column\")`) or into a `#[derive(sqlx::FromRow)]` \
         struct, not by position:\n{}",
        found.join("\n")
    );
    Ok(())
}
