//! The rules. Each takes audit facts (and what the store counted for it) and proposes alerts.

use super::config::{BaselineRule, Hours};
use super::{AlertDraft, AuditFact, Rule, RulesConfig, Severity};
use std::collections::{BTreeMap, VecDeque};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// The audit action of an identity read (the case's identity block opened).
pub const IDENTITY_READ: &str = "case.read_identity";
/// The audit action of a case search.
pub const SEARCH: &str = "case.search";

/// A read of case data: the identity block, a section or a referral's details.
pub fn is_read(f: &AuditFact) -> bool {
    f.outcome == "success"
        && !f.case_id.is_empty()
        && (f.action == IDENTITY_READ
            || f.action.ends_with(".read")
            || f.action == "referral.read_details")
}

/// Work on a case: a successful change by the user (anything on the case that is not a read,
/// a search, a break-glass request or a refusal).
pub fn is_work(f: &AuditFact) -> bool {
    f.outcome == "success"
        && !f.case_id.is_empty()
        && !is_read(f)
        && f.action != SEARCH
        && f.action != "break_glass"
}

/// A refused access (any audited refusal of a signed-in user).
pub fn is_denial(f: &AuditFact) -> bool {
    f.outcome == "denied" && !f.user.is_empty()
}

/// A failed sign-in step (password or second factor).
pub fn is_signin_failure(f: &AuditFact) -> bool {
    f.action == "auth.login" && f.outcome == "failure"
}

/// The local calendar date of `at` under `hours` (`YYYY-MM-DD`).
pub fn local_date(hours: &Hours, at: i64) -> String {
    let d = hours.local(at).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn draft(rule: Rule, severity: Severity, key: String, f: &AuditFact, seqs: Vec<i64>) -> AlertDraft {
    AlertDraft {
        rule,
        severity,
        key,
        org: f.org.clone(),
        subject_user: f.user.clone(),
        subject_source: String::new(),
        seqs,
    }
}

/// Every break-glass use.
pub fn break_glass(new: &[AuditFact], cfg: &RulesConfig) -> Vec<AlertDraft> {
    new.iter()
        .filter(|f| f.action == "break_glass" && f.outcome == "success")
        .map(|f| {
            draft(
                Rule::BreakGlass,
                cfg.break_glass.severity,
                format!("{}:{}", Rule::BreakGlass.name(), f.seq),
                f,
                vec![f.seq],
            )
        })
        .collect()
}

/// Whether an export row carried identities (its detail says `identity=none` otherwise).
pub fn export_has_identities(f: &AuditFact) -> bool {
    !f.detail.split(' ').any(|p| p == "identity=none")
}

/// Every HTCDS export (the `case.export` row written once per export); with identities it is
/// always `high`.
pub fn bulk_export(new: &[AuditFact], cfg: &RulesConfig) -> Vec<AlertDraft> {
    new.iter()
        .filter(|f| f.action == "case.export" && f.outcome == "success")
        .map(|f| {
            let severity = if export_has_identities(f) {
                Severity::High
            } else {
                cfg.bulk_export.severity
            };
            draft(
                Rule::BulkExport,
                severity,
                format!("{}:{}", Rule::BulkExport.name(), f.seq),
                f,
                vec![f.seq],
            )
        })
        .collect()
}

/// Reads outside the reader's organisation's working hours: one alert per user and local
/// day (rows of later evaluations the same day join it: same key).
pub fn off_hours(new: &[AuditFact], cfg: &RulesConfig) -> Vec<AlertDraft> {
    let mut by: BTreeMap<(String, String), AlertDraft> = BTreeMap::new();
    for f in new.iter().filter(|f| is_read(f) && !f.user.is_empty()) {
        let hours = cfg.hours_of(&f.org);
        if hours.within(f.at) {
            continue;
        }
        let date = local_date(hours, f.at);
        let key = format!("{}:{}:{date}", Rule::OffHours.name(), f.user);
        by.entry((f.user.clone(), date))
            .or_insert_with(|| draft(Rule::OffHours, cfg.hours_severity, key, f, Vec::new()))
            .seqs
            .push(f.seq);
    }
    by.into_values().collect()
}

/// The median of daily counts (0 for no days).
pub fn median(history: &[u32]) -> f64 {
    let mut v: Vec<u32> = history.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => f64::from(v[n / 2]),
        n => (f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) / 2.0,
    }
}

/// The number of identity reads in a day above which the baseline rule fires:
/// `max(floor, factor × median(history))` (rounded down). `history` holds one count per
/// previous day, days without reads as 0.
pub fn baseline_threshold(history: &[u32], rule: &BaselineRule) -> u32 {
    let scaled = (rule.factor * median(history)).floor();
    let scaled = if scaled.is_finite() && scaled > 0.0 {
        scaled.min(f64::from(u32::MAX)) as u32
    } else {
        0
    };
    scaled.max(rule.floor)
}

/// One user's identity reads of one local day (`date`), ascending: an alert when there are
/// more than [`baseline_threshold`], linked to the reads up to the one that crossed it.
pub fn identity_baseline(
    day_reads: &[AuditFact],
    history: &[u32],
    date: &str,
    cfg: &RulesConfig,
) -> Option<AlertDraft> {
    let t = baseline_threshold(history, &cfg.identity_baseline) as usize;
    if day_reads.len() <= t {
        return None;
    }
    let first = day_reads.first()?;
    let seqs = day_reads.iter().take(t + 1).map(|f| f.seq).collect();
    Some(draft(
        Rule::IdentityBaseline,
        cfg.identity_baseline.severity,
        format!("{}:{}:{date}", Rule::IdentityBaseline.name(), first.user),
        first,
        seqs,
    ))
}

/// A case read reached only by search: `read` followed a search by the same user within
/// `search_minutes` (`searches`: that user's searches), the user had never touched the case
/// before (`prior_contact` false), and `after` (that user's rows on the case after the read,
/// up to `hours` later) holds no work. The store calls it only once `hours` have passed.
pub fn search_without_work(
    read: &AuditFact,
    searches: &[AuditFact],
    prior_contact: bool,
    after: &[AuditFact],
    cfg: &RulesConfig,
) -> Option<AlertDraft> {
    let rule = &cfg.search_without_work;
    if !is_read(read) || prior_contact {
        return None;
    }
    let gap = i64::from(rule.search_minutes) * MINUTE_MS;
    let search = searches
        .iter()
        .filter(|s| {
            s.action == SEARCH
                && s.outcome == "success"
                && s.user == read.user
                && s.seq < read.seq
                && s.at <= read.at
                && read.at - s.at <= gap
        })
        .max_by_key(|s| s.seq)?;
    let until = read.at + i64::from(rule.hours) * HOUR_MS;
    let worked = after.iter().any(|w| {
        w.user == read.user
            && w.case_id == read.case_id
            && w.seq > read.seq
            && w.at <= until
            && is_work(w)
    });
    if worked {
        return None;
    }
    Some(draft(
        Rule::SearchWithoutWork,
        rule.severity,
        format!(
            "{}:{}:{}:{}",
            Rule::SearchWithoutWork.name(),
            read.user,
            read.case_id,
            search.seq
        ),
        read,
        vec![search.seq, read.seq],
    ))
}

/// Bursts in one subject's rows (ascending by seq): a group closes at the row that makes
/// `count` rows within `window_ms` (that row must have `seq >= from_seq`, i.e. be new); the
/// next group starts after it. Rows already linked to an earlier alert must be left out by
/// the caller, so re-evaluating never links a row twice.
pub fn bursts(rows: &[AuditFact], count: u32, window_ms: i64, from_seq: i64) -> Vec<Vec<i64>> {
    let count = count.max(1) as usize;
    let mut out = Vec::new();
    let mut window: VecDeque<&AuditFact> = VecDeque::new();
    for f in rows {
        while window.front().is_some_and(|w| f.at - w.at >= window_ms) {
            window.pop_front();
        }
        window.push_back(f);
        if window.len() >= count && f.seq >= from_seq {
            out.push(window.iter().map(|w| w.seq).collect());
            window.clear();
        }
    }
    out
}

fn grouped<'a>(
    rows: impl Iterator<Item = &'a AuditFact>,
    subject: impl Fn(&AuditFact) -> &str,
    last_alerted: &BTreeMap<String, i64>,
) -> BTreeMap<String, Vec<AuditFact>> {
    let mut by: BTreeMap<String, Vec<AuditFact>> = BTreeMap::new();
    for f in rows {
        let s = subject(f);
        if s.is_empty() || f.seq <= last_alerted.get(s).copied().unwrap_or(0) {
            continue;
        }
        by.entry(s.to_string()).or_default().push(f.clone());
    }
    for v in by.values_mut() {
        v.sort_by_key(|f| f.seq);
    }
    by
}

/// `count` refusals by one user within `minutes`. `rows`: refusals (new ones and the window
/// before them); `last_alerted`: per user, the last row an earlier alert of this rule holds.
pub fn repeated_denials(
    rows: &[AuditFact],
    last_alerted: &BTreeMap<String, i64>,
    from_seq: i64,
    cfg: &RulesConfig,
) -> Vec<AlertDraft> {
    let r = &cfg.repeated_denials;
    let mut out = Vec::new();
    for (user, facts) in grouped(
        rows.iter().filter(|f| is_denial(f)),
        |f| &f.user,
        last_alerted,
    ) {
        for seqs in bursts(&facts, r.count, i64::from(r.minutes) * MINUTE_MS, from_seq) {
            let Some(last) = seqs.last().copied() else {
                continue;
            };
            let Some(f) = facts.iter().find(|f| f.seq == last) else {
                continue;
            };
            out.push(draft(
                Rule::RepeatedDenials,
                r.severity,
                format!("{}:{user}:{last}", Rule::RepeatedDenials.name()),
                f,
                seqs,
            ));
        }
    }
    out
}

/// Failed sign-ins: `per_account` for one known account, `per_source` from one address,
/// within `minutes`. `last_account` / `last_source`: the last row an earlier alert of each
/// rule holds, per account / per address.
pub fn signin_failures(
    rows: &[AuditFact],
    last_account: &BTreeMap<String, i64>,
    last_source: &BTreeMap<String, i64>,
    from_seq: i64,
    cfg: &RulesConfig,
) -> Vec<AlertDraft> {
    let r = &cfg.signin_failures;
    let window = i64::from(r.minutes) * MINUTE_MS;
    let mut out = Vec::new();
    let failures = || rows.iter().filter(|f| is_signin_failure(f));
    for (user, facts) in grouped(failures(), |f| &f.user, last_account) {
        for seqs in bursts(&facts, r.per_account, window, from_seq) {
            let last = seqs.last().copied().unwrap_or(0);
            let Some(f) = facts.iter().find(|f| f.seq == last) else {
                continue;
            };
            out.push(draft(
                Rule::SigninFailuresAccount,
                r.severity,
                format!("{}:{user}:{last}", Rule::SigninFailuresAccount.name()),
                f,
                seqs,
            ));
        }
    }
    for (source, facts) in grouped(failures(), |f| &f.source, last_source) {
        for seqs in bursts(&facts, r.per_source, window, from_seq) {
            let last = seqs.last().copied().unwrap_or(0);
            // Several accounts may fail from one address: the alert names none of them and
            // belongs to the organisation only when every failure was of its own accounts.
            let group: Vec<&AuditFact> = facts.iter().filter(|f| seqs.contains(&f.seq)).collect();
            let org = group.first().map(|f| f.org.clone()).unwrap_or_default();
            let one_org = group.iter().all(|f| f.org == org);
            out.push(AlertDraft {
                rule: Rule::SigninFailuresSource,
                severity: r.severity,
                key: format!("{}:{source}:{last}", Rule::SigninFailuresSource.name()),
                org: if one_org { org } else { String::new() },
                subject_user: String::new(),
                subject_source: source.clone(),
                seqs,
            });
        }
    }
    out
}
