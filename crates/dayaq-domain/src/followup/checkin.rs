//! Discreet self check-in (issue 17, part 1): the neutral covers, the check-in's settings, the
//! survivor's answers and how they map onto the reintegration questionnaire, the "call me"
//! slot inside her safe windows, and the one-time code's shape. Pure: the clock is passed in,
//! random secrets are made by storage.

use super::*;

/// Days a check-in link stays valid when the caseworker does not choose.
pub const DEFAULT_CHECKIN_DAYS: u32 = 7;
/// Longest validity a caseworker may choose.
pub const MAX_CHECKIN_DAYS: u32 = 30;
/// Length of the short code typed on a phone.
pub const CHECKIN_CODE_LEN: usize = 8;
/// The code's alphabet: no 0/O, 1/I/L, U (easy to read aloud and to type).
pub const CHECKIN_CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The round name of assessments recorded from a self check-in.
pub const CHECKIN_ROUND: &str = "self-check-in";
/// The `request` of the follow-up task a "call me" answer creates.
pub const CHECKIN_CALL_REQUEST: &str = "call_back";

/// The reason the page's title gives. Never mentions trafficking; the neutral covers never
/// name the organisation. `Organisation` titles the page with the organisation's name and is
/// accepted only when she chose it (`CheckInInput::chosen_by_her`, recorded on the check-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cover {
    AppointmentReminder,
    CustomerSurvey,
    DeliveryUpdate,
    Organisation,
}

impl Cover {
    pub const ALL: &'static [Cover] = &[
        Cover::AppointmentReminder,
        Cover::CustomerSurvey,
        Cover::DeliveryUpdate,
        Cover::Organisation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cover::AppointmentReminder => "appointment_reminder",
            Cover::CustomerSurvey => "customer_survey",
            Cover::DeliveryUpdate => "delivery_update",
            Cover::Organisation => "organisation",
        }
    }

    pub fn parse(s: &str) -> Option<Cover> {
        Cover::ALL.iter().copied().find(|c| c.as_str() == s.trim())
    }
}

/// Languages of the check-in page.
pub const CHECKIN_LANGUAGES: &[&str] = &["az", "ru", "en"];

/// What the caseworker chooses when creating a check-in.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInInput {
    /// appointment_reminder | customer_survey | delivery_update | organisation (only with
    /// `chosen_by_her`)
    pub cover: String,
    /// az | ru | en (her language)
    pub language: String,
    /// Days the link stays valid (1-30, default 7).
    #[serde(default)]
    pub expiry_days: Option<u32>,
    /// She chose this cover herself (recorded on the check-in); required for `organisation`.
    #[serde(default)]
    pub chosen_by_her: bool,
}

/// A checked [`CheckInInput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInSettings {
    pub cover: Cover,
    pub language: &'static str,
    pub days: u32,
    pub chosen_by_her: bool,
}

impl CheckInInput {
    /// Every problem, each on its field (`cover`, `language`, `expiry_days`).
    pub fn validate(&self) -> Result<CheckInSettings, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let cover = Cover::parse(&self.cover);
        if cover.is_none() {
            errs.push(FieldError::new("cover", "unknown", "choose a cover reason"));
        }
        if cover == Some(Cover::Organisation) && !self.chosen_by_her {
            errs.push(FieldError::new(
                "cover",
                "not_her_choice",
                "a title naming the organisation only when she chose it",
            ));
        }
        let language = CHECKIN_LANGUAGES
            .iter()
            .copied()
            .find(|l| *l == self.language.trim());
        if language.is_none() {
            errs.push(FieldError::new("language", "unknown", "az, ru or en"));
        }
        let days = self.expiry_days.unwrap_or(DEFAULT_CHECKIN_DAYS);
        if !(1..=MAX_CHECKIN_DAYS).contains(&days) {
            errs.push(FieldError::new(
                "expiry_days",
                "out_of_range",
                "between 1 and 30 days",
            ));
        }
        errs.into_result()?;
        match (cover, language) {
            (Some(cover), Some(language)) => Ok(CheckInSettings {
                cover,
                language,
                days,
                chosen_by_her: self.chosen_by_her,
            }),
            _ => Err(ValidationErrors::single(FieldError::new(
                "cover", "unknown", "invalid",
            ))),
        }
    }
}

/// State of a check-in link at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckInState {
    Open,
    Answered,
    Expired,
    Revoked,
}

impl CheckInState {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckInState::Open => "open",
            CheckInState::Answered => "answered",
            CheckInState::Expired => "expired",
            CheckInState::Revoked => "revoked",
        }
    }

    /// Answered and revoked win over expiry; expiry is reached at `expires_at` itself.
    pub fn of(
        answered: bool,
        revoked: bool,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Self {
        if answered {
            CheckInState::Answered
        } else if revoked {
            CheckInState::Revoked
        } else if now >= expires_at {
            CheckInState::Expired
        } else {
            CheckInState::Open
        }
    }
}

/// The answer choices of "how are you" (best first; the questionnaire's `current_situation`).
pub const FEELINGS: &[&str] = &["very_good", "good", "average", "bad", "very_bad"];
/// Help areas she may tick, and the questionnaire's `assistance_needed` code of each.
pub const HELP_AREAS: &[(&str, &str)] = &[
    ("work", "job"),
    ("housing", "housing"),
    ("health", "medical"),
    ("legal", "legal"),
    ("family", "family_mediation"),
];
/// When she would like a call (local hours, start inclusive, end exclusive, in minutes).
pub const CALL_PERIODS: &[(&str, u16, u16)] = &[
    ("morning", 9 * 60, 12 * 60),
    ("afternoon", 12 * 60, 17 * 60),
    ("evening", 17 * 60, 21 * 60),
    ("any", 0, 24 * 60),
];

/// Her answers on the page (every question may be left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckInAnswers {
    pub feeling: Option<String>,
    pub help: Vec<String>,
    /// "May we call you?"
    pub call: bool,
    /// morning | afternoon | evening | any (only with `call`).
    pub call_period: Option<String>,
}

impl CheckInAnswers {
    /// Unknown choices are refused on their field (the page only offers known ones, so only a
    /// forged form gets here).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self
            .feeling
            .as_deref()
            .is_some_and(|f| !FEELINGS.contains(&f))
        {
            errs.push(FieldError::new("feeling", "unknown", "unknown answer"));
        }
        if self
            .help
            .iter()
            .any(|h| !HELP_AREAS.iter().any(|(k, _)| k == h))
        {
            errs.push(FieldError::new("help", "unknown", "unknown answer"));
        }
        if self
            .call_period
            .as_deref()
            .is_some_and(|p| !CALL_PERIODS.iter().any(|(k, _, _)| *k == p))
        {
            errs.push(FieldError::new("call_period", "unknown", "unknown answer"));
        }
        errs.into_result()
    }

    /// The questionnaire answers they stand for: `current_situation` and `assistance_needed`
    /// (deduplicated, in questionnaire order). Feeds trajectories and risk flags.
    pub fn to_questionnaire(&self) -> Answers {
        let mut a = Answers::new();
        if let Some(f) = self.feeling.as_deref().filter(|f| FEELINGS.contains(f)) {
            a.insert("current_situation".into(), vec![f.to_string()]);
        }
        let codes: Vec<String> = HELP_AREAS
            .iter()
            .filter(|(k, _)| self.help.iter().any(|h| h == k))
            .map(|(_, code)| code.to_string())
            .collect();
        if !codes.is_empty() {
            a.insert("assistance_needed".into(), codes);
        }
        a
    }
}

/// The first moment, from `now` on and within the next 8 local days, that lies inside one of
/// her protocol's safe windows and inside the call period she chose. `None` when no safe
/// window meets the period (the caseworker then plans the call by hand).
pub fn call_slot(
    rules: &ContactRules,
    period: &str,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let (_, p_start, p_end) = CALL_PERIODS.iter().find(|(k, _, _)| *k == period)?;
    let local_now = to_local(now, rules.utc_offset_min);
    let now_min = u16::from(local_now.hour()) * 60 + u16::from(local_now.minute());
    for day in 0..8i64 {
        let date = local_now.date() + time::Duration::days(day);
        let wd = date.weekday().number_from_monday();
        let mut best: Option<u16> = None;
        for w in rules
            .windows
            .iter()
            .filter(|w| w.valid() && w.weekday == wd)
        {
            let mut start = w.start_min.max(*p_start);
            let end = w.end_min.min(*p_end);
            if day == 0 {
                // Next whole minute after now.
                start = start.max(now_min + 1);
            }
            if start < end {
                best = Some(best.map_or(start, |b| b.min(start)));
            }
        }
        if let Some(m) = best {
            let t = time::Time::from_hms(u8::try_from(m / 60).ok()?, u8::try_from(m % 60).ok()?, 0)
                .ok()?;
            let local = date.with_time(t).assume_offset(local_now.offset());
            return Some(local.to_offset(UtcOffset::UTC));
        }
    }
    None
}

/// The code as typed: letters upper-cased, spaces and dashes dropped; `None` unless it has the
/// code's length and alphabet (so a malformed code costs no query).
pub fn normalise_code(s: &str) -> Option<String> {
    let c: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == CHECKIN_CODE_LEN && c.bytes().all(|b| CHECKIN_CODE_ALPHABET.contains(&b)))
        .then_some(c)
}

/// A link token as presented: 64 lowercase hex characters (256 bits), else `None`.
pub fn normalise_token(s: &str) -> Option<&str> {
    (s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(s)
}

#[cfg(test)]
mod checkin_tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn rules(windows: Vec<Window>) -> ContactRules {
        ContactRules {
            channels: vec![Channel::Sms],
            windows,
            utc_offset_min: DEFAULT_UTC_OFFSET_MIN,
            do_not_contact: false,
            caller: None,
            language: "az".into(),
        }
    }

    #[test]
    fn input_errors_name_their_fields() {
        let bad = CheckInInput {
            cover: "trafficking".into(),
            language: "de".into(),
            expiry_days: Some(0),
            chosen_by_her: false,
        };
        let e = bad.validate().unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cover", "language", "expiry_days"]);
        let ok = CheckInInput {
            cover: "customer_survey".into(),
            language: "ru".into(),
            expiry_days: None,
            chosen_by_her: false,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.days, DEFAULT_CHECKIN_DAYS);
    }

    #[test]
    fn the_organisation_is_named_only_when_she_chose_it() {
        let mut i = CheckInInput {
            cover: "organisation".into(),
            language: "az".into(),
            expiry_days: None,
            chosen_by_her: false,
        };
        let e = i.validate().unwrap_err();
        assert_eq!(
            (e.errors[0].field.as_str(), e.errors[0].code),
            ("cover", "not_her_choice")
        );
        i.chosen_by_her = true;
        let s = i.validate().unwrap();
        assert_eq!((s.cover, s.chosen_by_her), (Cover::Organisation, true));
    }

    #[test]
    fn answers_map_onto_the_questionnaire() {
        let a = CheckInAnswers {
            feeling: Some("bad".into()),
            help: vec!["family".into(), "work".into(), "work".into()],
            call: true,
            call_period: Some("evening".into()),
        };
        a.validate().unwrap();
        let q = a.to_questionnaire();
        assert_eq!(q["current_situation"], ["bad"]);
        assert_eq!(q["assistance_needed"], ["job", "family_mediation"]);
        validate_answers(&q).unwrap();
    }

    #[test]
    fn call_slot_is_inside_the_safe_window_and_the_period() {
        // Tuesday 10:00-12:00 Baku; asked on Saturday 2026-12-05 at 12:00 UTC.
        let r = rules(vec![Window {
            weekday: 2,
            start_min: 600,
            end_min: 720,
        }]);
        let now = datetime!(2026-12-05 12:00 UTC);
        // Tuesday 2026-12-08 10:00 Baku = 06:00 UTC.
        assert_eq!(
            call_slot(&r, "morning", now),
            Some(datetime!(2026-12-08 06:00 UTC))
        );
        assert_eq!(call_slot(&r, "evening", now), None);
        assert_eq!(call_slot(&rules(vec![]), "any", now), None);
    }

    #[test]
    fn states() {
        let t = datetime!(2026-12-05 12:00 UTC);
        assert_eq!(CheckInState::of(false, false, t, t), CheckInState::Expired);
        assert_eq!(
            CheckInState::of(false, false, t, t - time::Duration::SECOND),
            CheckInState::Open
        );
        assert_eq!(CheckInState::of(true, true, t, t), CheckInState::Answered);
    }

    fn window() -> impl Strategy<Value = Window> {
        (1u8..=7, 0u16..1439, 1u16..=1440).prop_filter_map("valid", |(d, a, b)| {
            let w = Window {
                weekday: d,
                start_min: a,
                end_min: b,
            };
            w.valid().then_some(w)
        })
    }

    proptest! {
        #[test]
        fn a_call_slot_is_always_safe_and_in_the_future(
            ws in proptest::collection::vec(window(), 0..6),
            p in proptest::sample::select(vec!["morning", "afternoon", "evening", "any"]),
            secs in 0i64..(86_400 * 365),
        ) {
            let r = rules(ws);
            let now = datetime!(2026-01-01 00:00 UTC) + time::Duration::seconds(secs);
            if let Some(t) = call_slot(&r, p, now) {
                prop_assert!(t > now);
                prop_assert!(t - now <= time::Duration::days(9));
                prop_assert_eq!(check_contact(&r, Channel::Sms, t, Uuid::nil()), Ok(()));
                let local = to_local(t, r.utc_offset_min);
                let m = u16::from(local.hour()) * 60 + u16::from(local.minute());
                let (_, a, b) = CALL_PERIODS.iter().find(|(k, _, _)| *k == p).copied().unwrap();
                prop_assert!(a <= m && m < b);
            }
        }

        #[test]
        fn codes_normalise_idempotently(s in "[a-zA-Z0-9 -]{0,20}") {
            if let Some(c) = normalise_code(&s) {
                prop_assert_eq!(normalise_code(&c), Some(c.clone()));
                prop_assert_eq!(c.len(), CHECKIN_CODE_LEN);
            }
        }

        #[test]
        fn any_answers_that_validate_make_valid_questionnaire_answers(
            f in proptest::option::of(proptest::sample::select(FEELINGS.to_vec())),
            help in proptest::collection::vec(proptest::sample::select(vec!["work", "housing", "health", "legal", "family"]), 0..8),
        ) {
            let a = CheckInAnswers {
                feeling: f.map(str::to_string),
                help: help.into_iter().map(str::to_string).collect(),
                call: false,
                call_period: None,
            };
            prop_assert!(a.validate().is_ok());
            prop_assert!(validate_answers(&a.to_questionnaire()).is_ok());
        }
    }
}
