//! Organisations' time zones (issue #23 §4). Instants are stored in UTC (milliseconds or
//! RFC 3339 with `Z`); screens show them in the organisation's zone, and a local time typed in
//! a form is read in that zone. Zones are IANA names resolved against the tz database bundled
//! in the binary (`jiff`, feature `tzdb-bundle-always`): no system files, no I/O.

use crate::FieldError;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The zone of an organisation that has not chosen one.
pub const DEFAULT_ZONE: &str = "Asia/Baku";

/// `name` if it is a zone of the tz database (its canonical spelling), else a field error.
pub fn valid_zone(field: &str, name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    let bad = || {
        FieldError::new(
            field,
            "unknown_zone",
            "must be a time zone of the tz database, e.g. Asia/Baku",
        )
    };
    if name.is_empty() || name.len() > 64 {
        return Err(bad());
    }
    let tz = jiff::tz::db().get(name).map_err(|_| bad())?;
    Ok(tz.iana_name().unwrap_or(name).to_string())
}

/// The zone named `name`, resolved once per process and shared (so that a translator holding
/// it stays `Copy`); an unknown name is the default zone, and fixed UTC if even that were
/// missing from the bundled database. Only names the database knows are kept, so the table is
/// bounded by the database (a few hundred zones).
pub fn zone(name: &str) -> &'static TimeZone {
    static ZONES: OnceLock<Mutex<HashMap<String, &'static TimeZone>>> = OnceLock::new();
    static UTC: TimeZone = TimeZone::UTC;
    let zones = ZONES.get_or_init(|| Mutex::new(HashMap::new()));
    let Ok(mut zones) = zones.lock() else {
        return &UTC;
    };
    for candidate in [name, DEFAULT_ZONE] {
        if let Some(z) = zones.get(candidate) {
            return z;
        }
        if let Ok(tz) = jiff::tz::db().get(candidate) {
            let z: &'static TimeZone = Box::leak(Box::new(tz));
            zones.insert(candidate.to_string(), z);
            return z;
        }
    }
    &UTC
}

/// The instant `t` with the offset `zone` has at that instant (same instant, local fields).
pub fn to_local(t: OffsetDateTime, zone: &TimeZone) -> OffsetDateTime {
    let secs = jiff::Timestamp::from_second(t.unix_timestamp())
        .map(|ts| zone.to_offset(ts).seconds())
        .unwrap_or(0);
    t.to_offset(UtcOffset::from_whole_seconds(secs).unwrap_or(UtcOffset::UTC))
}

/// The instant of the wall-clock time `local` in `zone` (a time skipped by a clock change is
/// moved forward, a repeated one is the earlier, as most calendars do); `None` outside the
/// supported range.
pub fn from_local(local: PrimitiveDateTime, zone: &TimeZone) -> Option<OffsetDateTime> {
    let dt = jiff::civil::DateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(u8::from(local.month())).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        i8::try_from(local.second()).ok()?,
        0,
    )
    .ok()?;
    let zoned = zone.to_ambiguous_zoned_datetime(dt).compatible().ok()?;
    OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    #[test]
    fn baku_is_four_hours_ahead_and_unknown_names_fall_back_to_it() {
        let t = datetime!(2026-12-04 21:30 UTC);
        let local = to_local(t, zone("Asia/Baku"));
        assert_eq!(local.date(), date!(2026 - 12 - 05));
        assert_eq!((local.hour(), local.minute()), (1, 30));
        assert_eq!(to_local(t, zone("Not/AZone")), local);
        assert_eq!(
            valid_zone("timezone", "Europe/Berlin"),
            Ok("Europe/Berlin".into())
        );
        assert_eq!(
            valid_zone("timezone", "Mars/Olympus").map_err(|e| e.code),
            Err("unknown_zone")
        );
        assert!(valid_zone("timezone", "").is_err());
    }

    #[test]
    fn a_zone_with_summer_time_changes_its_offset() {
        let berlin = zone("Europe/Berlin");
        let winter = to_local(datetime!(2026-01-15 12:00 UTC), berlin);
        let summer = to_local(datetime!(2026-07-15 12:00 UTC), berlin);
        assert_eq!(winter.hour(), 13);
        assert_eq!(summer.hour(), 14);
        // 02:30 on the night clocks go forward does not exist: moved to 03:30 summer time.
        let gap = from_local(datetime!(2026-03-29 02:30), berlin);
        assert_eq!(gap, Some(datetime!(2026-03-29 01:30 UTC)));
    }

    proptest! {
        /// A local time typed in a zone is shown again as the same wall-clock time (Baku has
        /// kept UTC+4 without summer time since 2016).
        #[test]
        fn local_time_round_trips_in_baku(secs in 1_460_000_000i64..4_000_000_000) {
            let baku = zone(DEFAULT_ZONE);
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let local = to_local(t, baku);
            let wall = PrimitiveDateTime::new(local.date(), local.time());
            prop_assert_eq!(from_local(wall, baku), Some(t));
        }

        /// Every instant from 20:00 UTC of the day before to 19:59 UTC is on day D in Baku.
        #[test]
        fn baku_day_starts_at_20_utc(day in 16_900i64..40_000, offset in 0i64..86_400) {
            let start = OffsetDateTime::from_unix_timestamp(day * 86_400 - 4 * 3600)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let t = start + time::Duration::seconds(offset);
            let d = OffsetDateTime::from_unix_timestamp(day * 86_400)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                .date();
            prop_assert_eq!(to_local(t, zone(DEFAULT_ZONE)).date(), d);
        }
    }
}
