//! Translations (Fluent): az (Latin script, the default), ru, en.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};
use std::borrow::Cow;
use std::collections::HashMap;

fluent_templates::static_loader! {
    pub static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Az,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Az, Lang::Ru, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Az => "az",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.get(..2).map(|p| p.to_ascii_lowercase()).as_deref() {
            Some("az") => Some(Lang::Az),
            Some("ru") => Some(Lang::Ru),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first supported language from an Accept-Language header.
    pub fn from_accept_language(h: &str) -> Option<Lang> {
        h.split(',').filter_map(|p| Lang::parse(p.trim())).next()
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::Az => langid!("az"),
            Lang::Ru => langid!("ru"),
            Lang::En => langid!("en"),
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Az => "Azərbaycanca",
            Lang::Ru => "Русский",
            Lang::En => "English",
        }
    }
}

/// Translator handed to templates: `{{ t.get("key") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(&self.lang.id(), key)
    }

    /// One named argument (numbers are formatted with the locale's plural rules).
    pub fn arg(&self, key: &str, name: &'static str, value: impl Into<ArgValue>) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(Cow::Borrowed(name), value.into().0);
        LOCALES.lookup_with_args(&self.lang.id(), key, &args)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// A date/time as the locale writes it (day.month.year in az and ru).
    pub fn datetime(&self, rfc3339: &str) -> String {
        use time::format_description::well_known::Rfc3339;
        let Ok(t) = time::OffsetDateTime::parse(rfc3339, &Rfc3339) else {
            return rfc3339.to_string();
        };
        match self.lang {
            Lang::Az | Lang::Ru => format!(
                "{:02}.{:02}.{} {:02}:{:02}",
                t.day(),
                u8::from(t.month()),
                t.year(),
                t.hour(),
                t.minute()
            ),
            Lang::En => format!(
                "{}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            ),
        }
    }

    /// A vocabulary value's label, e.g. `t.vocab("prs_Gender", "Feminine")`.
    pub fn vocab(&self, field: &str, value: &str) -> String {
        let key = format!("v-{}-{}", field.replace('_', "-"), value).to_lowercase();
        LOCALES
            .try_lookup(&self.lang.id(), &key)
            .unwrap_or_else(|| value.to_string())
    }
}

pub struct ArgValue(FluentValue<'static>);

impl From<i64> for ArgValue {
    fn from(v: i64) -> Self {
        ArgValue(FluentValue::from(v))
    }
}
impl From<usize> for ArgValue {
    fn from(v: usize) -> Self {
        ArgValue(FluentValue::from(v as i64))
    }
}
impl From<String> for ArgValue {
    fn from(v: String) -> Self {
        ArgValue(FluentValue::from(v))
    }
}
impl From<&str> for ArgValue {
    fn from(v: &str) -> Self {
        ArgValue(FluentValue::from(v.to_string()))
    }
}
impl From<&i64> for ArgValue {
    fn from(v: &i64) -> Self {
        ArgValue(FluentValue::from(*v))
    }
}
