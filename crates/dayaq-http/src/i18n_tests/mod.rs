//! Translation catalogue tests: the az, ru and en catalogues have the same keys and
//! variables, parse cleanly, use the right plural categories, every key is used and every
//! key the code asks for exists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::i18n::{Lang, Tr};
use dayaq_domain::Role;
use dayaq_domain::identification::{ConsentPurpose, ContactChannel, ILO_INDICATORS};
use dayaq_domain::vocab::{
    CaseStatus, DecisionMakingOrg, Gender, MethodOfControl, OrgType, TraffickingStatus,
    TypeOfExploitation,
};
use fluent_syntax::ast;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// This folder (the tests): never counted as a use of a key.
const SELF_DIR: &str = "i18n_tests";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn catalogue_path(lang: Lang) -> PathBuf {
    manifest_dir()
        .join("locales")
        .join(lang.code())
        .join("main.ftl")
}

/// Parses one catalogue, failing with every parser error and junk entry it finds.
fn parse(lang: Lang, source: &str) -> ast::Resource<&str> {
    let path = catalogue_path(lang);
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(r) => r,
        Err((_, errors)) => panic!("{} does not parse: {errors:#?}", path.display()),
    };
    let junk: Vec<&str> = resource
        .body
        .iter()
        .filter_map(|e| match e {
            ast::Entry::Junk { content } => Some(*content),
            _ => None,
        })
        .collect();
    assert!(
        junk.is_empty(),
        "{} has unparsable parts: {junk:#?}",
        path.display()
    );
    resource
}

/// One catalogue's source; `messages()` parses it (message id → message).
struct Catalogue {
    lang: Lang,
    source: String,
}

impl Catalogue {
    fn load(lang: Lang) -> Catalogue {
        Catalogue {
            lang,
            source: read(&catalogue_path(lang)),
        }
    }

    fn messages(&self) -> BTreeMap<String, ast::Message<&str>> {
        let mut out = BTreeMap::new();
        for entry in parse(self.lang, &self.source).body {
            match entry {
                ast::Entry::Message(m) => {
                    let id = m.id.name.to_string();
                    assert!(
                        !out.contains_key(&id),
                        "{}: message `{id}` is defined twice",
                        self.lang.code()
                    );
                    out.insert(id, m);
                }
                ast::Entry::Term(t) => panic!(
                    "{}: term `-{}` is not expected (terms cannot be looked up by key)",
                    self.lang.code(),
                    t.id.name
                ),
                _ => {}
            }
        }
        out
    }

    fn ids(&self) -> BTreeSet<String> {
        self.messages().into_keys().collect()
    }
}

fn catalogues() -> Vec<Catalogue> {
    Lang::ALL.iter().map(|l| Catalogue::load(*l)).collect()
}

fn en_ids() -> BTreeSet<String> {
    Catalogue::load(Lang::En).ids()
}

// ---------------------------------------------------------------------------------------
// AST walking: variables and plural selectors.

#[derive(Default)]
struct PatternFacts {
    variables: BTreeSet<String>,
    /// The variant keys of each select expression, in order of appearance.
    selects: Vec<BTreeSet<String>>,
}

fn walk_pattern(p: &ast::Pattern<&str>, f: &mut PatternFacts) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            walk_expression(expression, f);
        }
    }
}

fn walk_expression(e: &ast::Expression<&str>, f: &mut PatternFacts) {
    match e {
        ast::Expression::Select { selector, variants } => {
            walk_inline(selector, f);
            f.selects.push(
                variants
                    .iter()
                    .map(|v| match &v.key {
                        ast::VariantKey::Identifier { name } => (*name).to_string(),
                        ast::VariantKey::NumberLiteral { value } => (*value).to_string(),
                    })
                    .collect(),
            );
            for v in variants {
                walk_pattern(&v.value, f);
            }
        }
        ast::Expression::Inline(i) => walk_inline(i, f),
    }
}

fn walk_inline(i: &ast::InlineExpression<&str>, f: &mut PatternFacts) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            f.variables.insert(id.name.to_string());
        }
        ast::InlineExpression::Placeable { expression } => walk_expression(expression, f),
        ast::InlineExpression::FunctionReference { arguments, .. } => walk_args(arguments, f),
        ast::InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => walk_args(arguments, f),
        _ => {}
    }
}

fn walk_args(a: &ast::CallArguments<&str>, f: &mut PatternFacts) {
    for p in &a.positional {
        walk_inline(p, f);
    }
    for n in &a.named {
        walk_inline(&n.value, f);
    }
}

fn facts(m: &ast::Message<&str>) -> PatternFacts {
    let mut f = PatternFacts::default();
    if let Some(v) = &m.value {
        walk_pattern(v, &mut f);
    }
    for a in &m.attributes {
        walk_pattern(&a.value, &mut f);
    }
    f
}

/// CLDR cardinal plural categories used with integers.
fn plural_categories(lang: Lang) -> BTreeSet<String> {
    let cats: &[&str] = match lang {
        Lang::Az | Lang::En => &["one", "other"],
        Lang::Ru => &["one", "few", "many", "other"],
    };
    cats.iter().map(|c| c.to_string()).collect()
}

const ALL_PLURAL_CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

// ---------------------------------------------------------------------------------------
// a) the same ids everywhere.

#[test]
fn i18n_all_languages_have_the_same_ids() {
    let ids: Vec<(Lang, BTreeSet<String>)> =
        catalogues().iter().map(|c| (c.lang, c.ids())).collect();
    let all: BTreeSet<&String> = ids.iter().flat_map(|(_, i)| i).collect();
    let mut problems = Vec::new();
    for (lang, have) in &ids {
        let missing: Vec<String> = all
            .iter()
            .filter(|id| !have.contains(**id))
            .map(|id| {
                let defined_in: Vec<&str> = ids
                    .iter()
                    .filter(|(_, i)| i.contains(*id))
                    .map(|(l, _)| l.code())
                    .collect();
                format!("{id} (in {})", defined_in.join(", "))
            })
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{} is missing {} id(s): {}",
                catalogue_path(*lang).display(),
                missing.len(),
                missing.join("; "),
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn i18n_translations_use_the_same_variables_and_plural_categories() {
    let en = Catalogue::load(Lang::En);
    let en_messages = en.messages();
    let mut problems = Vec::new();
    for c in catalogues() {
        let expected_plurals = plural_categories(c.lang);
        for (id, m) in c.messages() {
            let f = facts(&m);
            if let Some(en_m) = en_messages.get(&id) {
                let en_vars = facts(en_m).variables;
                if f.variables != en_vars {
                    problems.push(format!(
                        "{}: `{id}` uses variables {:?}, en uses {:?}",
                        c.lang.code(),
                        f.variables,
                        en_vars
                    ));
                }
            }
            for keys in &f.selects {
                let is_plural = keys
                    .iter()
                    .any(|k| ALL_PLURAL_CATEGORIES.contains(&k.as_str()));
                if is_plural && *keys != expected_plurals {
                    problems.push(format!(
                        "{}: `{id}` has plural variants {keys:?}, expected {expected_plurals:?}",
                        c.lang.code()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// b) everything parses and resolves.

/// Variables the catalogues may use, with a sample value (`Tr::arg` wants `&'static str`).
const VARIABLES: [&str; 5] = ["seconds", "count", "rows", "username", "provider"];

/// Renders a message as the application would, passing a sample for its variable.
fn render(t: &Tr, id: &str, variables: &BTreeSet<String>) -> String {
    let mut vars = variables.iter();
    match (vars.next(), vars.next()) {
        (None, _) => t.get(id),
        (Some(v), None) => {
            let name = VARIABLES
                .iter()
                .find(|n| **n == v.as_str())
                .unwrap_or_else(|| panic!("`{id}`: add `${v}` to VARIABLES in this test"));
            if *name == "username" {
                t.arg(id, name, "aliyev")
            } else if *name == "provider" {
                t.arg(id, name, "Keycloak")
            } else {
                t.arg(id, name, 3i64)
            }
        }
        (Some(_), Some(_)) => panic!("`{id}`: Tr::arg passes only one variable"),
    }
}

/// The loader answers "Unknown localization key: ..." when neither the language nor the
/// English fallback has the key (or formatting it failed); guard against the id too.
#[test]
fn i18n_every_message_resolves() {
    let mut problems = Vec::new();
    for c in catalogues() {
        let t = Tr::new(c.lang);
        let messages = c.messages();
        assert!(!messages.is_empty(), "{} has no messages", c.lang.code());
        for (id, m) in &messages {
            if m.value.is_none() {
                problems.push(format!("{}: `{id}` has no value", c.lang.code()));
                continue;
            }
            let s = render(&t, id, &facts(m).variables);
            if s.trim().is_empty() {
                problems.push(format!(
                    "{}: `{id}` resolves to an empty string",
                    c.lang.code()
                ));
            } else if s == *id || s.starts_with("Unknown localization key") {
                problems.push(format!("{}: `{id}` does not resolve: {s}", c.lang.code()));
            } else if s.contains('{') || s.contains('}') {
                problems.push(format!("{}: `{id}` left a placeholder: {s}", c.lang.code()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A key missing from az or ru silently falls back to English, so compare every English
/// message with what the application shows in az and ru: this also proves the loader
/// serves the translated catalogues rather than the English fallback.
#[test]
fn i18n_translations_are_not_english_copies() {
    // Words that are legitimately spelled the same as in English.
    const SAME_AS_EN: &[(Lang, &str)] = &[
        (Lang::Az, "role-auditor"),
        (Lang::Az, "col-status"),
        (Lang::Az, "package-section-plan"),
    ];
    let en = Tr::new(Lang::En);
    let en_catalogue = Catalogue::load(Lang::En);
    let mut copies = Vec::new();
    for lang in [Lang::Az, Lang::Ru] {
        let t = Tr::new(lang);
        for (id, m) in en_catalogue.messages() {
            let vars = facts(&m).variables;
            if render(&t, &id, &vars) == render(&en, &id, &vars)
                && !SAME_AS_EN.contains(&(lang, id.as_str()))
            {
                copies.push(format!("{}: {id}", lang.code()));
            }
        }
    }
    assert!(
        copies.is_empty(),
        "untranslated or missing (shown in English):\n{}",
        copies.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// c) no unused keys.

#[test]
fn i18n_no_unused_keys() {
    let corpus = Corpus::load();
    let dynamic = dynamic_keys();
    // Every catalogue's ids, so a stray key in az or ru is reported too.
    let ids: BTreeSet<String> = catalogues().iter().flat_map(|c| c.ids()).collect();
    let unused: Vec<String> = ids
        .into_iter()
        .filter(|k| usage(k, &corpus, &dynamic).is_none())
        .collect();
    assert!(
        unused.is_empty(),
        "{} key(s) are not used by templates/ or src/ (neither as a literal nor through a \
         documented dynamic pattern); remove them from every catalogue: {unused:?}",
        unused.len()
    );
}

/// The scanner must not treat comments as uses, and must find literals after char literals.
#[test]
fn i18n_rust_lexer_skips_comments_and_chars() {
    let src = "// t.get(\"in-comment\")\n/* \"block\" /* nested */ */ let q = '\"'; let e = '\\''; \
               let a = t.get(\"real-key\"); let r = r#\"raw \"x\"\"#; fn f<'a>(x: &'a str) { \"after\" }";
    let lexed = lex_rust(src);
    assert_eq!(lexed.literals, ["real-key", "raw \"x\"", "after"]);
    assert_eq!(lookups_in(&lexed.code), ["real-key"]);
    assert!(lookups_in("x.at.get(\"no\")").is_empty());
    assert_eq!(lookups_in("{{ c.t.arg(\"k\", \"n\", 1) }}"), ["k"]);
}

// ---------------------------------------------------------------------------------------
// d) every key the code asks for exists.

#[test]
fn i18n_no_missing_keys() {
    let corpus = Corpus::load();
    let en = en_ids();
    let lookups = corpus.literal_lookups();
    assert!(
        lookups.len() > 50,
        "found only {} t.get/t.arg calls; is the scanner broken?",
        lookups.len()
    );
    let missing: Vec<String> = lookups
        .iter()
        .filter(|(k, _)| !en.contains(k))
        .map(|(k, at)| format!("`{k}` at {at}"))
        .collect();
    assert!(
        missing.is_empty(),
        "keys used in code but missing from the en catalogue:\n{}",
        missing.join("\n")
    );
}

#[test]
fn i18n_no_missing_dynamic_keys() {
    let corpus = Corpus::load();
    let en = en_ids();
    let mut wanted = dynamic_keys();
    // Error pages look up "error-<x>" and "error-<x>-text".
    for (_, r) in &corpus.http_rs {
        for l in &r.literals {
            if l.starts_with("error-") && !l.ends_with("-text") && l != "error-back-home" {
                wanted.insert(l.clone());
                wanted.insert(format!("{l}-text"));
            }
        }
    }
    let missing: Vec<&String> = wanted.iter().filter(|k| !en.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "keys built at run time but missing from the en catalogue: {missing:?}"
    );
}

// ---------------------------------------------------------------------------------------
// e) plurals.

#[test]
fn i18n_russian_plural_forms() {
    let t = Tr::new(Lang::Ru);
    let one = t.arg("home-open-cases", "count", 1i64);
    let few = t.arg("home-open-cases", "count", 3i64);
    let many = t.arg("home-open-cases", "count", 5i64);
    assert_ne!(one, few);
    assert_ne!(few, many);
    assert_ne!(one, many);
    assert!(one.starts_with("1 дело "), "{one}");
    assert!(few.starts_with("3 дела "), "{few}");
    assert!(many.starts_with("5 дел "), "{many}");
    assert!(
        t.arg("home-open-cases", "count", 21i64)
            .starts_with("21 дело ")
    );
    assert!(
        t.arg("home-open-cases", "count", 11i64)
            .starts_with("11 дел ")
    );
    assert!(
        t.arg("home-open-cases", "count", 22i64)
            .starts_with("22 дела ")
    );
    assert!(
        t.arg("login-throttled", "seconds", 2i64)
            .contains("2 секунды")
    );
    assert!(
        t.arg("login-throttled", "seconds", 1i64)
            .contains("1 секунду")
    );
    assert!(t.arg("home-audit-ok", "rows", 25i64).contains("25 записей"));
}

#[test]
fn i18n_plural_messages_render_in_every_language() {
    let cases: [(&str, &'static str); 3] = [
        ("home-open-cases", "count"),
        ("login-throttled", "seconds"),
        ("home-audit-ok", "rows"),
    ];
    for lang in Lang::ALL {
        let t = Tr::new(lang);
        for (key, var) in cases {
            for n in [0i64, 1, 2, 3, 5, 11, 21, 100] {
                let s = t.arg(key, var, n);
                assert!(
                    !s.trim().is_empty(),
                    "{}: {key} with {n} is empty",
                    lang.code()
                );
                assert!(
                    !s.contains('{') && !s.contains('}'),
                    "{}: {key} with {n} left a placeholder: {s}",
                    lang.code()
                );
                assert!(
                    s.contains(&n.to_string()),
                    "{}: {key} with {n} lacks the number: {s}",
                    lang.code()
                );
            }
        }
    }
    let en = Tr::new(Lang::En);
    assert_ne!(
        en.arg("home-open-cases", "count", 1i64),
        en.arg("home-open-cases", "count", 5i64)
    );
    let az = Tr::new(Lang::Az);
    assert!(
        az.arg("users-created", "username", "aliyev")
            .contains("aliyev")
    );
}

mod usage;

use usage::*;
