//! Times on screens (issue #23 §4). Instants are stored in UTC; a screen shows them in the
//! organisation's time zone (`dayaq_domain::zone`, Asia/Baku unless the organisation chose
//! another with `dayaq org set-timezone`), and a local time typed in a form (`datetime-local`)
//! is read in that zone. One format per language: az and ru `05.12.2026 11:00` (day first, as
//! both languages write dates), en ISO `2026-12-05 11:00` (unambiguous for readers of any
//! country). Dates without a time (`YYYY-MM-DD`) are written the same way without the time.

use crate::i18n::Lang;
use dayaq_domain::zone::{from_local, to_local};
use jiff::tz::TimeZone;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

fn date_text(lang: Lang, d: Date) -> String {
    match lang {
        Lang::Az | Lang::Ru => format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year()),
        Lang::En => format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
    }
}

/// An instant (RFC 3339) in `zone`, written as `lang` writes it; text that is not an instant
/// is returned as it is.
pub fn datetime(lang: Lang, zone: &TimeZone, rfc3339: &str) -> String {
    let Ok(t) = OffsetDateTime::parse(rfc3339, &Rfc3339) else {
        return rfc3339.to_string();
    };
    let l = to_local(t, zone);
    format!(
        "{} {:02}:{:02}",
        date_text(lang, l.date()),
        l.hour(),
        l.minute()
    )
}

/// A calendar date (`YYYY-MM-DD`) as `lang` writes it; anything else unchanged.
pub fn date(lang: Lang, iso: &str) -> String {
    match Date::parse(iso, format_description!("[year]-[month]-[day]")) {
        Ok(d) => date_text(lang, d),
        Err(_) => iso.to_string(),
    }
}

/// A time typed in a form: `datetime-local` (`2026-12-05T11:00`, seconds optional) read in
/// `zone`, or an RFC 3339 instant as it is. `None` when it is neither.
pub fn parse_local(s: &str, zone: &TimeZone) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let p = PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .or_else(|_| {
        PrimitiveDateTime::parse(
            s,
            format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        )
    })
    .ok()?;
    from_local(p, zone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dayaq_domain::zone::zone;

    #[test]
    fn a_contact_at_0130_baku_time_is_on_its_local_day() {
        // 01:30 on 5 December in Baku is 21:30 UTC on 4 December.
        let baku = zone("Asia/Baku");
        assert_eq!(
            datetime(Lang::Az, baku, "2026-12-04T21:30:00Z"),
            "05.12.2026 01:30"
        );
        assert_eq!(
            datetime(Lang::Ru, baku, "2026-12-04T21:30:00Z"),
            "05.12.2026 01:30"
        );
        assert_eq!(
            datetime(Lang::En, baku, "2026-12-04T21:30:00Z"),
            "2026-12-05 01:30"
        );
        // The same instant in UTC is still the 4th.
        assert_eq!(
            datetime(Lang::En, zone("UTC"), "2026-12-04T21:30:00Z"),
            "2026-12-04 21:30"
        );
        assert_eq!(datetime(Lang::En, baku, "not a time"), "not a time");
    }

    #[test]
    fn a_local_time_typed_at_1100_is_shown_at_1100() {
        let baku = zone("Asia/Baku");
        let t = parse_local("2026-12-05T11:00", baku);
        assert_eq!(
            t.and_then(|t| t.format(&Rfc3339).ok()).as_deref(),
            Some("2026-12-05T07:00:00Z")
        );
        let shown = t
            .and_then(|t| t.format(&Rfc3339).ok())
            .map(|s| datetime(Lang::Az, baku, &s));
        assert_eq!(shown.as_deref(), Some("05.12.2026 11:00"));
        assert_eq!(parse_local("11:00", baku), None);
    }

    #[test]
    fn dates_have_one_format_per_language() {
        assert_eq!(date(Lang::Az, "2026-12-05"), "05.12.2026");
        assert_eq!(date(Lang::Ru, "2026-12-05"), "05.12.2026");
        assert_eq!(date(Lang::En, "2026-12-05"), "2026-12-05");
        assert_eq!(date(Lang::Ru, ""), "");
    }
}
