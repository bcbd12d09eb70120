//! The survivor's contact protocol: channels, safe windows, the contact check and the protocol input.

use super::*;

// ---------------------------------------------------------------------------------------------
// Contact protocol
// ---------------------------------------------------------------------------------------------

/// Ways a caseworker may reach the survivor. "none" is an empty channel list.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Sms,
    Messenger,
    Email,
    Visit,
    /// The survivor answered a self check-in link herself (issue 17). Not in [`Channel::ALL`]:
    /// a protocol cannot allow it and a caseworker cannot log it; only an answered check-in
    /// records it.
    SelfCheckIn,
}

impl Channel {
    pub const ALL: &'static [Channel] = &[
        Channel::Phone,
        Channel::Sms,
        Channel::Messenger,
        Channel::Email,
        Channel::Visit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Sms => "sms",
            Channel::Messenger => "messenger",
            Channel::Email => "email",
            Channel::Visit => "visit",
            Channel::SelfCheckIn => "self_check_in",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// A safe time window on one weekday, in the survivor's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Window {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Minutes after local midnight, inclusive.
    pub start_min: u16,
    /// Minutes after local midnight, exclusive; greater than `start_min`, at most 1440.
    pub end_min: u16,
}

impl Window {
    /// "1@09:00-12:30" (weekday@start-end).
    pub fn encode(&self) -> String {
        format!(
            "{}@{:02}:{:02}-{:02}:{:02}",
            self.weekday,
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }

    pub fn parse(s: &str) -> Option<Window> {
        let (d, range) = s.trim().split_once('@')?;
        let (a, b) = range.split_once('-')?;
        let w = Window {
            weekday: d.trim().parse().ok()?,
            start_min: hm(a)?,
            end_min: hm(b)?,
        };
        w.valid().then_some(w)
    }

    pub fn valid(&self) -> bool {
        (1..=7).contains(&self.weekday) && self.start_min < self.end_min && self.end_min <= 1440
    }

    /// "09:00–12:30"
    pub fn hours(&self) -> String {
        format!(
            "{:02}:{:02}–{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

pub(super) fn hm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Azerbaijan time (UTC+4, no daylight saving) in minutes.
pub const DEFAULT_UTC_OFFSET_MIN: i32 = 240;

/// The rule part of the survivor's contact protocol (what `check_contact` needs).
/// The personal parts — safe numbers, never-contact list and places, cover reason or code
/// word — are kept encrypted by storage and are not needed by the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactRules {
    /// Allowed channels; empty = "none".
    pub channels: Vec<Channel>,
    /// Safe times; empty = no safe time, so nothing can be scheduled.
    pub windows: Vec<Window>,
    /// The survivor's local offset from UTC in minutes.
    pub utc_offset_min: i32,
    /// Respected absolutely.
    pub do_not_contact: bool,
    /// The named caseworker who may call; `None` = any caseworker of the owner organisation.
    pub caller: Option<Uuid>,
    /// Language for contacts (ISO 639-1).
    pub language: String,
}

impl ContactRules {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.windows.iter().any(|w| !w.valid()) {
            errs.push(FieldError::new(
                "windows",
                "invalid",
                "a time window is not valid (weekday 1-7, start before end)",
            ));
        }
        if !(-720..=840).contains(&self.utc_offset_min) {
            errs.push(FieldError::new(
                "utc_offset_min",
                "invalid",
                "offset out of range",
            ));
        }
        let l = self.language.trim();
        if l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()) {
            errs.push(FieldError::new(
                "language",
                "invalid",
                "language must be an ISO 639-1 code",
            ));
        }
        errs.into_result()
    }

    /// The safe windows on the local weekday of `when`.
    pub fn windows_on(&self, when: OffsetDateTime) -> Vec<Window> {
        let local = to_local(when, self.utc_offset_min);
        let wd = local.weekday().number_from_monday();
        self.windows
            .iter()
            .copied()
            .filter(|w| w.weekday == wd)
            .collect()
    }
}

pub(super) fn to_local(when: OffsetDateTime, offset_min: i32) -> OffsetDateTime {
    let off =
        UtcOffset::from_whole_seconds(offset_min.saturating_mul(60)).unwrap_or(UtcOffset::UTC);
    when.to_offset(off)
}

/// Why a contact is outside the protocol (stable codes).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Breach {
    DoNotContact,
    ChannelNotAllowed,
    OutsideSafeWindow,
    CallerNotNamed,
}

impl Breach {
    pub fn as_str(self) -> &'static str {
        match self {
            Breach::DoNotContact => "do_not_contact",
            Breach::ChannelNotAllowed => "channel_not_allowed",
            Breach::OutsideSafeWindow => "outside_safe_window",
            Breach::CallerNotNamed => "caller_not_named",
        }
    }
    pub fn parse(s: &str) -> Option<Breach> {
        [
            Breach::DoNotContact,
            Breach::ChannelNotAllowed,
            Breach::OutsideSafeWindow,
            Breach::CallerNotNamed,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

/// Is this contact within the survivor's protocol? All breaches are listed.
pub fn check_contact(
    rules: &ContactRules,
    channel: Channel,
    when: OffsetDateTime,
    caller: Uuid,
) -> Result<(), Vec<Breach>> {
    let mut out = Vec::new();
    if rules.do_not_contact {
        out.push(Breach::DoNotContact);
    }
    if !rules.channels.contains(&channel) {
        out.push(Breach::ChannelNotAllowed);
    }
    let local = to_local(when, rules.utc_offset_min);
    let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
    let inside = rules_windows_contain(rules, local.weekday().number_from_monday(), minute);
    if !inside {
        out.push(Breach::OutsideSafeWindow);
    }
    if let Some(named) = rules.caller
        && named != caller
    {
        out.push(Breach::CallerNotNamed);
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

pub(super) fn rules_windows_contain(rules: &ContactRules, weekday: u8, minute: u16) -> bool {
    rules
        .windows
        .iter()
        .any(|w| w.valid() && w.weekday == weekday && w.start_min <= minute && minute < w.end_min)
}

/// Longest free text of a follow-up record (cover reason, code word, justification, her words),
/// in characters.
pub const MAX_TEXT: usize = 2000;
/// Most entries of a personal list of the protocol (safe numbers, never-contact, places).
pub const MAX_LIST: usize = 20;

/// `too_long` when `s` has more than [`MAX_TEXT`] characters.
pub fn check_text(errs: &mut ValidationErrors, field: &str, s: &str) {
    if s.chars().count() > MAX_TEXT {
        errs.push(FieldError::new(field, "too_long", "text is too long"));
    }
}

/// `too_long` when `v` has more than [`MAX_LIST`] entries or one over 200 characters.
pub fn check_list(errs: &mut ValidationErrors, field: &str, v: &[String]) {
    if v.len() > MAX_LIST || v.iter().any(|s| s.chars().count() > 200) {
        errs.push(FieldError::new(
            field,
            "too_long",
            "too many or too long entries",
        ));
    }
}

/// A calendar date `YYYY-MM-DD` (spaces around it ignored).
pub fn parse_day(field: &str, s: &str) -> Result<Date, FieldError> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| FieldError::new(field, "invalid_date", "expected a date YYYY-MM-DD"))
}

/// The protocol as recorded with the survivor.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolInput {
    /// phone, sms, messenger, email, visit (empty = none).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Safe times "weekday@HH:MM-HH:MM", weekday 1 = Monday … 7 = Sunday, local time.
    #[serde(default)]
    pub windows: Vec<String>,
    #[serde(default)]
    pub utc_offset_min: Option<i32>,
    #[serde(default)]
    pub do_not_contact: bool,
    /// Username of the one caseworker who may call (of the owner organisation).
    #[serde(default)]
    pub caller: Option<String>,
    pub language: String,
    /// Personal (encrypted): safe numbers / addresses.
    #[serde(default)]
    pub safe_numbers: Vec<String>,
    /// Personal (encrypted): people and numbers never to contact.
    #[serde(default)]
    pub never_contact: Vec<String>,
    /// Personal (encrypted): places never to visit or mention.
    #[serde(default)]
    pub never_places: Vec<String>,
    /// Personal (encrypted): the cover reason to give for a call or visit.
    #[serde(default)]
    pub cover_reason: String,
    /// Personal (encrypted): the code word.
    #[serde(default)]
    pub code_word: String,
}

impl ProtocolInput {
    /// The checks that need no database: channels (distinct, in order), safe windows, the
    /// personal lists and texts. Every problem is added to `errs`; the caller adds the ones
    /// that need the database (the named caller) and then [`ContactRules::validate`].
    pub fn check(&self, errs: &mut ValidationErrors) -> (Vec<Channel>, Vec<Window>) {
        let mut channels = Vec::new();
        for c in &self.channels {
            match Channel::parse(c.trim()) {
                Some(ch) if !channels.contains(&ch) => channels.push(ch),
                Some(_) => {}
                None => errs.push(FieldError::new("channels", "unknown", "unknown channel")),
            }
        }
        let mut windows = Vec::new();
        for w in self.windows.iter().filter(|w| !w.trim().is_empty()) {
            match Window::parse(w) {
                Some(w) => windows.push(w),
                None => errs.push(FieldError::new(
                    "windows",
                    "invalid",
                    "a safe time must look like 1@09:00-12:00 (weekday 1-7)",
                )),
            }
        }
        check_list(errs, "safe_numbers", &self.safe_numbers);
        check_list(errs, "never_contact", &self.never_contact);
        check_list(errs, "never_places", &self.never_places);
        check_text(errs, "cover_reason", &self.cover_reason);
        check_text(errs, "code_word", &self.code_word);
        (channels, windows)
    }
}
