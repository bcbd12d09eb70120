//! The one formula guard for every CSV the product writes (HTCDS export, questionnaire export,
//! questionnaire summary: all through [`super::CsvWriter`]) and its inverse for every CSV it
//! reads ([`super::read`]) (CSV injection, OWASP "CSV Injection").
//!
//! A spreadsheet runs a cell as a formula when its text starts with `=`, `+`, `-` or `@`
//! (also tab and CR, which some programs strip before deciding), possibly after leading
//! whitespace, and some also accept the fullwidth forms `＝ ＋ － ＠`. Spreadsheets set to
//! an az or ru locale use `;` as the list separator and open a comma-separated file by
//! splitting each *line* at `;`, ignoring the file's quoting of comma-separated fields: text
//! after a `;` inside one of our cells becomes a cell of its own, and so does text after a
//! line break inside a cell. The guard therefore works on **segments**: the cell is cut at
//! `;`, CR and LF, and every segment that a spreadsheet would run gets a leading `'` (which
//! spreadsheets show as "text"). A segment of only digits, spaces and `+-()./` (a phone
//! number such as `+994 50 123 45 67`, a negative number) cannot call a function and is left
//! alone so that exported phones stay readable.
//!
//! The guard is reversible: a segment starting with `'` is itself guarded, so [`unguard`]
//! restores exactly what [`guard`] was given (property-tested below).
//!
//! XLSX is written with typed string cells, which no spreadsheet evaluates; the guard is not
//! applied there (it would change the values).

use std::borrow::Cow;

const SEPARATORS: [char; 3] = [';', '\n', '\r'];

fn is_trigger(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}'
    )
}

/// Whether a spreadsheet could run `segment` (text between separators) as a formula, or it
/// starts with the guard character itself.
fn needs_guard(segment: &str) -> bool {
    if segment.starts_with('\'') {
        return true;
    }
    // Tab and CR are triggers themselves; other leading whitespace is skipped.
    let rest = segment.trim_start_matches(|c: char| c.is_whitespace() && c != '\t' && c != '\r');
    match rest.chars().next() {
        Some(c) if is_trigger(c) => {
            !matches!(c, '+' | '-' | '\u{FF0B}' | '\u{FF0D}')
                || !rest
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_whitespace() || " +-()./".contains(c))
        }
        _ => false,
    }
}

fn map_segments(s: &str, f: impl Fn(&str, &mut String)) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if SEPARATORS.contains(&c) {
            f(&s[start..i], &mut out);
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    f(&s[start..], &mut out);
    out
}

/// `s` as it must be written to a CSV cell: every segment a spreadsheet would run is
/// prefixed with `'`.
pub fn guard(s: &str) -> Cow<'_, str> {
    let any = s.split(SEPARATORS).any(needs_guard);
    if !any {
        return Cow::Borrowed(s);
    }
    Cow::Owned(map_segments(s, |seg, out| {
        if needs_guard(seg) {
            out.push('\'');
        }
        out.push_str(seg);
    }))
}

/// The inverse of [`guard`], for cells read from CSV.
pub fn unguard(s: &str) -> Cow<'_, str> {
    let strip = |seg: &str| matches!(seg.strip_prefix('\''), Some(rest) if needs_guard(rest));
    if !s.split(SEPARATORS).any(strip) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(map_segments(s, |seg, out| match seg.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => out.push_str(rest),
        _ => out.push_str(seg),
    }))
}

/// Whether a spreadsheet in any locale would run some part of the written cell `written` as
/// a formula (for tests): a segment at a cell or line start that is not guarded.
pub fn would_evaluate(written: &str) -> bool {
    written
        .split(SEPARATORS)
        .any(|seg| needs_guard(seg) && !seg.starts_with('\''))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(guard("=cmd"), "'=cmd");
        assert_eq!(guard("  =cmd"), "'  =cmd");
        assert_eq!(guard("\u{00A0}@SUM(A1)"), "'\u{00A0}@SUM(A1)");
        assert_eq!(guard("\u{FF1D}1+1"), "'\u{FF1D}1+1");
        assert_eq!(
            guard("x;=HYPERLINK(\"http://e\")"),
            "x;'=HYPERLINK(\"http://e\")"
        );
        assert_eq!(
            guard("a\n-2+3+cmd|' /C calc'!A0"),
            "a\n'-2+3+cmd|' /C calc'!A0"
        );
        assert_eq!(guard("\tx"), "'\tx");
        assert_eq!(guard("+994 50 123 45 67"), "+994 50 123 45 67");
        assert_eq!(guard("-12"), "-12");
        assert_eq!(guard("AZ;RU"), "AZ;RU");
        assert_eq!(guard("'quoted"), "''quoted");
        assert_eq!(
            guard("plain text, with = inside"),
            "plain text, with = inside"
        );
    }

    fn cell() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("=".to_string()),
                Just("+".to_string()),
                Just("-".to_string()),
                Just("@".to_string()),
                Just("'".to_string()),
                Just(";".to_string()),
                Just("\t".to_string()),
                Just("\r".to_string()),
                Just("\n".to_string()),
                Just(" ".to_string()),
                Just("\u{00A0}".to_string()),
                Just("\u{FF1D}".to_string()),
                Just("\u{FF0D}".to_string()),
                Just("\u{FF20}".to_string()),
                Just("1".to_string()),
                Just("cmd|x".to_string()),
                "[a-zA-Z0-9 ,.()]{0,4}",
            ],
            0..10,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn guarded_cells_never_evaluate_and_round_trip(s in cell()) {
            let g = guard(&s);
            prop_assert!(!would_evaluate(&g), "{:?} → {:?}", s, g);
            let back = unguard(&g).into_owned();
            prop_assert_eq!(back, s.clone());
            // Guarding is only ever a prefix per segment: nothing else changes.
            prop_assert_eq!(g.replace('\'', ""), s.replace('\'', ""));
        }
    }
}
