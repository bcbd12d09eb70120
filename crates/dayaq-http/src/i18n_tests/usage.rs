//! Source scanning for the key-usage tests: a small Rust lexer (comments blanked, string literals collected), the corpus of sources and templates, the keys built at run time.

use super::*;

// ---------------------------------------------------------------------------------------
// Source scanning.

/// Rust source with comments blanked out, and its string literals (raw text between the
/// quotes; escapes are kept as written, which is fine for keys and codes).
pub(super) struct RustSource {
    pub(super) code: String,
    pub(super) literals: Vec<String>,
}

pub(super) fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A small Rust lexer: enough to skip comments, char literals and lifetimes and to read
/// normal, byte and raw string literals.
pub(super) fn lex_rust(src: &str) -> RustSource {
    let s: Vec<char> = src.chars().collect();
    let mut code = String::with_capacity(src.len());
    let mut literals = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        // Line comment (including doc comments).
        if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
            continue;
        }
        // Block comment, possibly nested.
        if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    // Keep line numbers right for error messages.
                    if s[i] == '\n' {
                        code.push('\n');
                    }
                    i += 1;
                }
            }
            code.push(' ');
            continue;
        }
        // Raw string: r"..", r#".."#, br#".."#.
        let prev_ident = i > 0 && is_ident(s[i - 1]);
        let raw_start = if c == 'r' && !prev_ident {
            Some(i + 1)
        } else if c == 'b' && next == Some('r') && !prev_ident {
            Some(i + 2)
        } else {
            None
        };
        if let Some(mut j) = raw_start {
            let mut hashes = 0;
            while s.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if s.get(j) == Some(&'"') {
                let start = j + 1;
                let mut k = start;
                loop {
                    if k >= s.len() {
                        break;
                    }
                    if s[k] == '"' && (1..=hashes).all(|h| s.get(k + h) == Some(&'#')) {
                        break;
                    }
                    k += 1;
                }
                let end = k.min(s.len());
                let lit: String = s[start..end].iter().collect();
                code.push('"');
                code.push_str(&lit);
                code.push('"');
                literals.push(lit);
                i = end + 1 + hashes;
                continue;
            }
        }
        // Normal (or byte) string.
        if c == '"' {
            let start = i + 1;
            let mut k = start;
            while k < s.len() && s[k] != '"' {
                if s[k] == '\\' {
                    k += 1;
                }
                k += 1;
            }
            let end = k.min(s.len());
            let lit: String = s[start..end].iter().collect();
            code.push('"');
            code.push_str(&lit);
            code.push('"');
            literals.push(lit);
            i = end + 1;
            continue;
        }
        // Char literal ('x', '\n', '\'', '"') versus lifetime ('a).
        if c == '\'' {
            if next == Some('\\') {
                // Skip the escaped character itself, then find the closing quote.
                let mut k = i + 3;
                while k < s.len() && s[k] != '\'' {
                    k += 1;
                }
                code.push_str("' '");
                i = k + 1;
                continue;
            }
            if s.get(i + 2) == Some(&'\'') {
                code.push_str("' '");
                i += 3;
                continue;
            }
        }
        code.push(c);
        i += 1;
    }
    RustSource { code, literals }
}

pub(super) fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != SELF_DIR) {
                files_under(&path, ext, out);
            }
        } else if path.extension().is_some_and(|x| x == ext) {
            out.push(path);
        }
    }
    out.sort();
}

/// Everything the key-usage tests look at.
pub(super) struct Corpus {
    /// Lexed `.rs` files of dayaq-http/src (without this file).
    pub(super) http_rs: Vec<(PathBuf, RustSource)>,
    /// String literals of every `.rs` file under crates/*/src (without this file).
    pub(super) all_rs_literals: BTreeSet<String>,
    /// Raw text of dayaq-http/templates.
    pub(super) templates: Vec<(PathBuf, String)>,
}

impl Corpus {
    pub(super) fn load() -> Corpus {
        let http = manifest_dir();
        let crates_dir = http.parent().expect("crates directory").to_path_buf();

        let mut http_files = Vec::new();
        files_under(&http.join("src"), "rs", &mut http_files);
        let http_rs: Vec<(PathBuf, RustSource)> = http_files
            .into_iter()
            .map(|p| {
                let lexed = lex_rust(&read(&p));
                (p, lexed)
            })
            .collect();
        assert!(!http_rs.is_empty(), "no sources found under dayaq-http/src");

        let mut all_rs = Vec::new();
        for krate in std::fs::read_dir(&crates_dir).unwrap() {
            let src = krate.unwrap().path().join("src");
            if src.is_dir() {
                files_under(&src, "rs", &mut all_rs);
            }
        }
        let all_rs_literals = all_rs
            .iter()
            .flat_map(|p| lex_rust(&read(p)).literals)
            .collect();

        let mut template_files = Vec::new();
        files_under(&http.join("templates"), "html", &mut template_files);
        assert!(!template_files.is_empty(), "no templates found");
        let templates = template_files
            .into_iter()
            .map(|p| {
                let text = read(&p);
                (p, text)
            })
            .collect();

        Corpus {
            http_rs,
            all_rs_literals,
            templates,
        }
    }

    pub(super) fn http_rs_has_literal(&self, s: &str) -> bool {
        self.http_rs
            .iter()
            .any(|(_, r)| r.literals.iter().any(|l| l == s))
    }

    pub(super) fn template_has_literal(&self, s: &str) -> bool {
        let quoted = format!("\"{s}\"");
        self.templates.iter().any(|(_, t)| t.contains(&quoted))
    }

    /// A field name as the code builds `field-<name>`: lowercased, `_` and `.` → `-`.
    pub(super) fn normalise(s: &str) -> String {
        s.to_lowercase().replace(['_', '.'], "-")
    }

    pub(super) fn has_field_literal(&self, name: &str) -> bool {
        let quoted = format!("\"{name}\"");
        self.all_rs_literals
            .iter()
            .any(|l| Self::normalise(l) == name)
            || self
                .templates
                .iter()
                .any(|(_, t)| Self::normalise(t).contains(&quoted))
    }

    /// Literal keys passed to `t.get("…")` / `t.arg("…", …)` (also `c.t.…`), with where.
    pub(super) fn literal_lookups(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let texts = self
            .http_rs
            .iter()
            .map(|(p, r)| (p, r.code.as_str()))
            .chain(self.templates.iter().map(|(p, t)| (p, t.as_str())));
        for (path, text) in texts {
            let name = path
                .strip_prefix(manifest_dir())
                .unwrap_or(path)
                .display()
                .to_string();
            for (line_no, line) in text.lines().enumerate() {
                for key in lookups_in(line) {
                    out.push((key, format!("{name}:{}", line_no + 1)));
                }
            }
        }
        out
    }
}

/// Finds `t.get("key"` and `t.arg("key"` in one line of code or template.
pub(super) fn lookups_in(line: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for call in ["t.get(", "t.arg("] {
        let mut from = 0;
        while let Some(pos) = line[from..].find(call) {
            let at = from + pos;
            from = at + call.len();
            // `t` must be a whole identifier (`t.get`, `c.t.get`, not `at.get`).
            if line[..at].chars().next_back().is_some_and(is_ident) {
                continue;
            }
            let rest = line[from..].trim_start();
            if let Some(quoted) = rest.strip_prefix('"')
                && let Some(end) = quoted.find('"')
            {
                keys.push(quoted[..end].to_string());
            }
        }
    }
    keys
}

/// Keys built at run time from domain enums: roles and vocabulary labels (as `Tr::vocab`).
pub(super) fn dynamic_keys() -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = Role::ALL
        .iter()
        .map(|r| format!("role-{}", r.as_str().replace('_', "-")))
        .collect();
    let vocab_key = |field: &str, value: &str| {
        format!("v-{}-{}", field.replace('_', "-"), value).to_lowercase()
    };
    for g in Gender::ALL {
        keys.insert(vocab_key(Gender::FIELD, g.as_str()));
    }
    for s in CaseStatus::ALL {
        keys.insert(vocab_key(CaseStatus::FIELD, s.as_str()));
    }
    for s in TraffickingStatus::ALL {
        keys.insert(vocab_key(TraffickingStatus::FIELD, s.as_str()));
    }
    for x in TypeOfExploitation::ALL {
        keys.insert(vocab_key(TypeOfExploitation::FIELD, x.as_str()));
    }
    for x in DecisionMakingOrg::ALL {
        keys.insert(vocab_key(DecisionMakingOrg::FIELD, x.as_str()));
    }
    for x in MethodOfControl::ALL {
        keys.insert(vocab_key(MethodOfControl::FIELD, x.as_str()));
    }
    for x in OrgType::ALL {
        keys.insert(vocab_key(OrgType::FIELD, x.as_str()));
    }
    // Identification screens (pages/identification.rs builds these from the enums).
    for p in ConsentPurpose::ALL {
        keys.insert(format!("consent-purpose-{}", p.as_str().to_lowercase()));
    }
    for by in ["Survivor", "ParentOrGuardian", "LegalRepresentative"] {
        keys.insert(format!("consent-by-{}", by.to_lowercase()));
    }
    for ch in ContactChannel::ALL {
        keys.insert(format!("channel-{}", ch.as_str().to_lowercase()));
    }
    for i in ILO_INDICATORS {
        keys.insert(format!("ilo-{}", i.to_lowercase()));
    }
    // Referral screens (pages/referrals.rs and case_referrals.html).
    for s in dayaq_domain::referral::Service::ALL {
        keys.insert(format!("service-{}", s.as_str().to_lowercase()));
    }
    for s in dayaq_domain::referral::ReferralState::ALL {
        keys.insert(format!("referral-state-{}", s.as_str().to_lowercase()));
    }
    for r in dayaq_domain::vocab::ReferralReason::ALL {
        keys.insert(vocab_key(
            dayaq_domain::vocab::ReferralReason::FIELD,
            r.as_str(),
        ));
    }
    // Off-platform packages on the case page (pages/referrals.rs).
    for d in ["outgoing", "incoming"] {
        keys.insert(format!("package-{d}"));
    }
    for s in dayaq_domain::policy::Section::ALL {
        keys.insert(format!(
            "package-section-{}",
            dayaq_domain::package::section_name(*s).replace('_', "-")
        ));
    }
    // Research releases (pages/releases.rs: `rel-state-<state>`, `rel-kind-<kind>`,
    // `rel-done-<step>`, `rel-err-<error code>`).
    for s in [
        "requested",
        "approved",
        "refused",
        "generated",
        "downloaded",
    ] {
        keys.insert(format!("rel-state-{s}"));
    }
    for k in ["microdata", "tables"] {
        keys.insert(format!("rel-kind-{k}"));
    }
    for d in ["requested", "key", "approved", "refused"] {
        keys.insert(format!("rel-done-{d}"));
    }
    for e in [
        "unknown-variable",
        "below-minimum",
        "not-positive",
        "above-cap",
        "budget-exceeded",
        "too-few-records",
        "invalid-age-recipient",
        "whole-years",
    ] {
        keys.insert(format!("rel-err-{e}"));
    }
    // Access-anomaly alerts (pages/alerts.rs: `alert-rule-<rule>`, `alert-severity-<s>`,
    // `alert-state-<state>` and the filter's `all`).
    use dayaq_domain::oversight::{Rule, Severity};
    for r in Rule::ALL {
        keys.insert(format!("alert-rule-{}", r.name().replace('_', "-")));
    }
    for s in [Severity::Low, Severity::Medium, Severity::High] {
        keys.insert(format!("alert-severity-{}", s.name()));
    }
    for s in ["open", "acknowledged", "all"] {
        keys.insert(format!("alert-state-{s}"));
    }
    // Case navigation and the caseload list (pages/cases.rs: `nav-stage-<stage>`,
    // `nav-prompt-<prompt>`, `nav-sort-<sort>`).
    use dayaq_domain::progress::{CaseloadSort, Prompt, Stage};
    for s in Stage::ALL {
        keys.insert(format!("nav-stage-{}", s.as_str().to_lowercase()));
    }
    for p in Prompt::ALL {
        keys.insert(format!("nav-prompt-{}", p.as_str().to_lowercase()));
    }
    for s in CaseloadSort::ALL {
        keys.insert(format!("nav-sort-{}", s.as_str().to_lowercase()));
    }
    keys
}

/// Why `key` counts as used, or `None` if nothing uses it.
pub(super) fn usage(
    key: &str,
    corpus: &Corpus,
    dynamic: &BTreeSet<String>,
) -> Option<&'static str> {
    if corpus.http_rs_has_literal(key) || corpus.template_has_literal(key) {
        return Some("literal");
    }
    if dynamic.contains(key) {
        return Some("role/vocabulary");
    }
    if key.starts_with("error-") {
        let base = key.strip_suffix("-text").unwrap_or(key);
        if corpus.http_rs_has_literal(base) {
            return Some("error page");
        }
    }
    if let Some(code) = key.strip_prefix("err-")
        && corpus.all_rs_literals.contains(&code.replace('-', "_"))
    {
        return Some("error code");
    }
    if let Some(name) = key.strip_prefix("field-")
        && corpus.has_field_literal(name)
    {
        return Some("field name");
    }
    if let Some(kind) = key.strip_prefix("event-")
        && corpus.all_rs_literals.contains(&kind.replacen('-', ".", 1))
    {
        return Some("event kind");
    }
    None
}
