//! Building blocks every form handler of the pages shares: reading posted fields, the choice
//! lists of `<select>`s, and the language of the signed-in user. The HTML side of the form
//! pattern (CSRF field, a field with its label and error, the error summary) is in
//! `templates/macros.html`.

use crate::auth::Authed;
use crate::i18n::Lang;

/// One `<option>` of a choice list.
pub struct Opt {
    pub value: String,
    pub label: String,
}

/// The language of the signed-in user's pages.
pub(crate) fn lang_of(a: &Authed) -> Lang {
    Lang::parse(&a.user.locale).unwrap_or(Lang::Az)
}

/// The first value posted under `key`, or "".
pub(crate) fn value(form: &[(String, String)], key: &str) -> String {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Every value posted under `key` (checkbox groups, multi-selects), in order.
pub(crate) fn values(form: &[(String, String)], key: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The value posted under `key`, trimmed; `None` when empty.
pub(crate) fn opt_value(form: &[(String, String)], key: &str) -> Option<String> {
    Some(value(form, key).trim().to_string()).filter(|v| !v.is_empty())
}
