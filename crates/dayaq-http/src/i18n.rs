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

/// A language's own name for a language code recorded in a form (the consent's "explained in"
/// select offers these six); another code is shown as it is.
pub fn language_name(code: &str) -> String {
    match code {
        "az" => "Azərbaycanca",
        "ru" => "Русский",
        "en" => "English",
        "uz" => "Oʻzbekcha",
        "tg" => "Тоҷикӣ",
        "fa" => "فارسی",
        other => other,
    }
    .to_string()
}

/// Translator handed to templates: `{{ t.get("key") }}`. It also writes times, in `zone`
/// (the organisation's time zone; Asia/Baku until a signed-in user's organisation says).
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
    pub zone: &'static jiff::tz::TimeZone,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            zone: dayaq_domain::zone::zone(dayaq_domain::zone::DEFAULT_ZONE),
        }
    }

    /// The same translator writing times in the zone named `zone` (IANA name).
    pub fn in_zone(self, zone: &str) -> Self {
        Self {
            zone: dayaq_domain::zone::zone(zone),
            ..self
        }
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

    /// An instant (RFC 3339) in the organisation's zone as the language writes it
    /// (`time_fmt`: day.month.year in az and ru, ISO in en).
    pub fn datetime(&self, rfc3339: &str) -> String {
        crate::time_fmt::datetime(self.lang, self.zone, rfc3339)
    }

    /// A calendar date (`YYYY-MM-DD`) as the language writes it.
    pub fn date(&self, iso: &str) -> String {
        crate::time_fmt::date(self.lang, iso)
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
