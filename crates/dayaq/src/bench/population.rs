//! The synthetic population: organisations, people, cases and their events, as pure
//! functions of (seed, population size, index). Nothing here touches the database.
//!
//! Marginals follow public CTDC / HTCDS knowledge and the seeds' figures for Azerbaijan:
//! about 70 % of registered victims feminine; mostly adults with about a fifth children;
//! citizenship mostly AZ, then UZ, TJ, RU and neighbours; sexual exploitation and forced
//! labour dominate; recruiters are mostly relatives or acquaintances (16 of 22 in the survey).
//! Names are built from syllable tables (never a list of real names); identity numbers start
//! with `SYN`, e-mail addresses use example.org.
//!
//! To add an event kind: add a variant to [`Event`], draw it in [`events`], and write it in
//! `generator::EventBatch` (one multi-row INSERT per kind and batch).
//!
//! Why this file is over 800 lines: it is mostly tables (marginals, syllables, vocabularies)
//! and one drawing function per event kind of every area, all reading one random stream per
//! (seed, index); the order of the draws is part of the determinism the tests pin, and is
//! easiest to keep when it reads top to bottom in one file.

use super::rng::Rng;
use dayaq_domain::assistance::{
    ActionStatus, ExitDestination, GoalTerm, NeedDomain, PlanType, Severity,
};
use dayaq_domain::case::{CaseInput, Identity, VictimContext};
use dayaq_domain::followup::{Answers, Channel, DEFAULT_MONTHS, QUESTIONS, QuestionKind};
use dayaq_domain::identification::{ConsentPurpose, ContactChannel, ILO_INDICATORS};
use dayaq_domain::referral::{ReferralState, Service};
use dayaq_domain::vocab::{DecisionMakingOrg, OrgType, TraffickingStatus, TypeOfExploitation};
use time::{Date, OffsetDateTime};

/// First registration instant of the population (2018-01-01T00:00:00Z, ms).
pub const START_MS: i64 = 1_514_764_800_000;
/// End of the registration window (2026-01-01T00:00:00Z, ms, exclusive). Events that would
/// fall after it have not happened yet and are left out.
pub const END_MS: i64 = 1_767_225_600_000;
/// "Today" for validation (birth dates, decision dates).
pub fn today() -> Date {
    time::macros::date!(2026 - 01 - 31)
}

const DAY_MS: i64 = 86_400_000;

// Item streams (see `Rng::for_item`).
const STREAM_PERSON: u64 = 1;
const STREAM_CASE: u64 = 2;
const STREAM_ORG: u64 = 3;
const STREAM_EVENTS: u64 = 4;
const STREAM_ASSISTANCE: u64 = 5;

/// An organisation of the synthetic world. Every slug starts with `bench-`.
pub struct BenchOrg {
    pub slug: &'static str,
    pub name: &'static str,
    pub org_type: &'static str,
    pub region: &'static str,
    /// Share of the cases it registers (per mille of the total weights).
    pub share: u32,
    /// How its intake contacts arrive.
    pub channels: &'static [(ContactChannel, u32)],
}

use ContactChannel as Ch;

/// The case-holding organisations. The first is the one the benchmark reads as.
pub const ORGS: &[BenchOrg] = &[
    BenchOrg {
        slug: "bench-assistance-center",
        name: "Assistance Center (synthetic)",
        org_type: "CentralGovernmentOrganisation",
        region: "Baku",
        share: 24,
        channels: &[
            (Ch::Police, 30),
            (Ch::Hotline, 25),
            (Ch::SelfReferral, 15),
            (Ch::NgoOutreach, 15),
            (Ch::MigrationService, 15),
        ],
    },
    BenchOrg {
        slug: "bench-police-atd",
        name: "Anti-Trafficking Department (synthetic)",
        org_type: "LawEnforcement",
        region: "Baku",
        share: 22,
        channels: &[(Ch::Police, 100)],
    },
    BenchOrg {
        slug: "bench-ngo-baku",
        name: "Shelter NGO, Baku (synthetic)",
        org_type: "NGO",
        region: "Baku",
        share: 16,
        channels: &[
            (Ch::NgoOutreach, 50),
            (Ch::SelfReferral, 25),
            (Ch::Hotline, 25),
        ],
    },
    BenchOrg {
        slug: "bench-iom",
        name: "Migration agency office (synthetic)",
        org_type: "NGO",
        region: "Baku",
        share: 10,
        channels: &[(Ch::IomReturn, 80), (Ch::MigrationService, 20)],
    },
    BenchOrg {
        slug: "bench-ngo-ganja",
        name: "Regional NGO, Ganja (synthetic)",
        org_type: "NGO",
        region: "Ganja-Gazakh",
        share: 8,
        channels: &[(Ch::NgoOutreach, 60), (Ch::SelfReferral, 40)],
    },
    BenchOrg {
        slug: "bench-state-shelter",
        name: "State Shelter (synthetic)",
        org_type: "CentralGovernmentOrganisation",
        region: "Baku",
        share: 8,
        channels: &[(Ch::Police, 70), (Ch::MigrationService, 30)],
    },
    BenchOrg {
        slug: "bench-ngo-lankaran",
        name: "Regional NGO, Lankaran (synthetic)",
        org_type: "NGO",
        region: "Lankaran-Astara",
        share: 6,
        channels: &[(Ch::NgoOutreach, 70), (Ch::Hotline, 30)],
    },
    BenchOrg {
        slug: "bench-hotline",
        name: "Hotline (synthetic)",
        org_type: "CentralGovernmentOrganisation",
        region: "Baku",
        share: 6,
        channels: &[(Ch::Hotline, 100)],
    },
];

/// The organisation of the national coordinator (statistics); holds no cases.
pub const COORDINATION: (&str, &str, &str, &str) = (
    "bench-coordination",
    "National coordination (synthetic)",
    "CentralGovernmentOrganisation",
    "Baku",
);

/// The organisation whose caseworker the benchmark reads as.
pub const BENCH_ORG: usize = 0;
/// The police organisation: its officer records identification decisions.
pub const POLICE_ORG: usize = 1;

/// The caseworker account of an organisation (`bench.<slug without bench->>`).
pub fn caseworker(org: &BenchOrg) -> String {
    format!("bench.{}", org.slug.trim_start_matches("bench-"))
}
pub const POLICE_OFFICER: &str = "bench.police-officer";
pub const COORDINATOR: &str = "bench.coordinator";

/// Registration instant of case `i` of `n`: spread over 2018–2025 with a density rising
/// linearly (three times as many registrations at the end as at the start), in index order.
pub fn case_time(i: u64, n: u64) -> i64 {
    let u = (i as f64 + 0.5) / n.max(1) as f64;
    let x = ((1.0 + 8.0 * u).sqrt() - 1.0) / 2.0;
    START_MS + (x * (END_MS - START_MS) as f64) as i64
}

/// The organisation that registers case `i` (independent of everything else about it).
pub fn org_of(seed: u64, i: u64) -> usize {
    let weights: Vec<(usize, u32)> = ORGS.iter().enumerate().map(|(k, o)| (k, o.share)).collect();
    *Rng::for_item(seed, STREAM_ORG, i).weighted(&weights)
}

fn date_of(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date())
        .unwrap_or(today())
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

// ------------------------------------------------------------------------------------------
// People

/// A synthetic person (the identity section of one or more cases).
#[derive(Debug, Clone)]
pub struct Person {
    pub gender: Option<&'static str>,
    pub age: Option<i64>,
    pub citizenship: Vec<&'static str>,
    pub identity: Identity,
    pub language: &'static str,
}

const SYL: &[&str] = &[
    "a", "ay", "ba", "be", "da", "di", "el", "fa", "gu", "gül", "ha", "i", "ka", "ke", "la", "le",
    "lu", "ma", "me", "mi", "na", "ne", "nu", "o", "ra", "re", "ru", "sa", "se", "sə", "ta", "te",
    "tu", "ul", "va", "ya", "yə", "za", "zi", "şa", "çi", "nə", "rə", "ü", "ö", "xa", "qa", "ğa",
];
const FEM_END: &[&str] = &[
    "na", "la", "ra", "ya", "nə", "lə", "rə", "ira", "ana", "iyə", "e",
];
const MASC_END: &[&str] = &[
    "an", "ad", "ur", "in", "ar", "əd", "il", "ər", "at", "im", "ux",
];

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn given_name(r: &mut Rng, feminine: bool) -> String {
    let mut s = String::new();
    for _ in 0..r.range(1, 2) {
        s.push_str(r.pick(SYL));
    }
    s.push_str(r.pick(if feminine { FEM_END } else { MASC_END }));
    capitalise(&s)
}

fn surname(r: &mut Rng, country: &str, feminine: bool) -> String {
    let mut root = String::new();
    for _ in 0..r.range(2, 3) {
        root.push_str(r.pick(SYL));
    }
    let suffix: &[&str] = match (country, feminine) {
        ("AZ", true) => &["ova", "yeva", "li", "zadə"],
        ("AZ", false) => &["ov", "yev", "li", "zadə"],
        ("UZ" | "TM" | "KG", true) => &["ova", "eva"],
        ("UZ" | "TM" | "KG", false) => &["ov", "ev"],
        ("TJ", true) => &["zoda", "ova"],
        ("TJ", false) => &["zoda", "ov"],
        ("RU" | "UA", true) => &["ova", "ina", "eva"],
        ("RU" | "UA", false) => &["ov", "in", "ev"],
        ("GE", _) => &["shvili", "dze", "ia"],
        ("TR", _) => &["oğlu", "er", "an"],
        ("IR", _) => &["i", "zadeh", "ian"],
        _ => &["an", "en", "ers"],
    };
    capitalise(&format!("{root}{}", r.pick(suffix)))
}

const CITIZENSHIP: &[(&str, u32)] = &[
    ("AZ", 780),
    ("UZ", 70),
    ("TJ", 40),
    ("RU", 30),
    ("GE", 20),
    ("TM", 15),
    ("KG", 15),
    ("UA", 10),
    ("IR", 10),
    ("TR", 5),
    ("AF", 2),
    ("PK", 2),
    ("BD", 1),
];

const GENDER: &[(Option<&str>, u32)] = &[
    (Some("Feminine"), 690),
    (Some("Masculine"), 285),
    (Some("TransgenderFeminine"), 3),
    (Some("TransgenderMasculine"), 2),
    (Some("NonConforming"), 2),
    (Some("NonSpecifiedUnknown"), 8),
    (None, 10),
];

/// Age at the time of trafficking by CTDC band (the last band is capped at 65).
const AGE_BANDS: &[((i64, i64), u32)] = &[
    ((1, 8), 25),
    ((9, 17), 165),
    ((18, 20), 95),
    ((21, 23), 110),
    ((24, 26), 105),
    ((27, 29), 95),
    ((30, 38), 230),
    ((39, 47), 120),
    ((48, 65), 55),
];

fn language(country: &str) -> &'static str {
    match country {
        "AZ" => "az",
        "UZ" => "uz",
        "TJ" => "tg",
        "RU" => "ru",
        "GE" => "ka",
        "TM" => "tk",
        "KG" => "ky",
        "UA" => "uk",
        "IR" => "fa",
        "TR" => "tr",
        "AF" => "ps",
        "PK" => "ur",
        "BD" => "bn",
        _ => "en",
    }
}

fn city(r: &mut Rng, country: &str) -> &'static str {
    let cities: &[&str] = match country {
        "AZ" => &[
            "Bakı",
            "Gəncə",
            "Sumqayıt",
            "Lənkəran",
            "Şəki",
            "Mingəçevir",
            "Quba",
            "Şirvan",
        ],
        "UZ" => &["Tashkent", "Samarkand", "Fergana"],
        "TJ" => &["Dushanbe", "Khujand"],
        "RU" => &["Moscow", "Derbent", "Makhachkala"],
        "GE" => &["Tbilisi", "Marneuli"],
        _ => &["Capital city"],
    };
    r.pick(cities)
}

fn phone(r: &mut Rng, country: &str) -> String {
    let (cc, prefixes): (&str, &[&str]) = match country {
        "AZ" => ("+994", &["50", "51", "55", "70", "77", "10"]),
        "UZ" => ("+998", &["90", "91", "93", "97"]),
        "TJ" => ("+992", &["90", "91", "92", "93"]),
        "RU" => ("+7", &["903", "916", "926"]),
        "GE" => ("+995", &["555", "577", "599"]),
        _ => ("+90", &["532", "533", "542"]),
    };
    format!(
        "{cc} {} {:03} {:02} {:02}",
        r.pick(prefixes),
        r.below(1000),
        r.below(100),
        r.below(100)
    )
}

/// Person `p` of a population of `n` under `seed`: who was registered as case `p` (a case
/// that re-registers an earlier person reuses that person's identity).
pub fn person(seed: u64, n: u64, p: u64) -> Person {
    let r = &mut Rng::for_item(seed, STREAM_PERSON, p);
    let registered = case_time(p, n);
    let gender = *r.weighted(GENDER);
    let feminine = match gender {
        Some("Feminine" | "TransgenderFeminine") => true,
        Some("Masculine" | "TransgenderMasculine") => false,
        _ => r.chance(0.5),
    };
    let age = if r.chance(0.03) {
        None
    } else {
        let (lo, hi) = *r.weighted(AGE_BANDS);
        Some(r.range(lo, hi))
    };
    let mut citizenship: Vec<&'static str> = Vec::new();
    if !r.chance(0.01) {
        citizenship.push(*r.weighted(CITIZENSHIP));
        if r.chance(0.02) {
            let second = r.pick(&["RU", "TR", "GE", "UA"]);
            if !citizenship.contains(&second) {
                citizenship.push(second);
            }
        }
    }
    let country = citizenship.first().copied().unwrap_or("AZ");
    let birthdate = age.map(|a| {
        // Trafficked 0-2 years before registration, at age `a`.
        let days = a * 365 + a / 4 + r.range(0, 364) + r.range(0, 730);
        iso(date_of(registered) - time::Duration::days(days))
    });
    let first = given_name(r, feminine);
    let middle = match country {
        "AZ" if r.chance(0.4) => Some(format!(
            "{} {}",
            given_name(r, false),
            if feminine { "qızı" } else { "oğlu" }
        )),
        "UZ" | "TJ" | "RU" if r.chance(0.3) => Some(format!(
            "{}{}",
            given_name(r, false),
            if feminine { "ovna" } else { "ovich" }
        )),
        _ => None,
    };
    let second = surname(r, country, feminine);
    let identity_number = r
        .chance(0.55)
        .then(|| format!("SYN{:09}", r.below(1_000_000_000)));
    let mobile_phone = r.chance(0.65).then(|| phone(r, country));
    let home_phone = r.chance(0.08).then(|| phone(r, country));
    let email = r.chance(0.15).then(|| format!("p{:x}@example.org", p));
    let has_address = r.chance(0.5);
    let (mailing_street, mailing_city, mailing_country) = if has_address {
        (
            Some(format!(
                "{} küçəsi {}, mənzil {}",
                capitalise(&format!("{}{}", r.pick(SYL), r.pick(SYL))),
                r.range(1, 180),
                r.range(1, 90)
            )),
            Some(city(r, country).to_string()),
            Some(country.to_string()),
        )
    } else {
        (None, None, None)
    };
    Person {
        gender,
        age,
        citizenship,
        language: language(country),
        identity: Identity {
            first_name: Some(first),
            middle_name: middle,
            second_name: Some(second),
            birthdate,
            identity_number,
            mobile_phone,
            home_phone,
            email,
            mailing_street,
            mailing_city,
            mailing_country,
            notes: None,
        },
    }
}

// ------------------------------------------------------------------------------------------
// Cases

const NOTES: &[&str] = &[
    "Referred after an inspection of a workplace.",
    "Needs a medical assessment and psychological support.",
    "Returned from abroad with the help of the consulate.",
    "Documents were retained by the employer; replacements requested.",
    "Family contacted with consent; reunification being assessed.",
    "Requires legal aid for the criminal proceedings.",
    "Interview postponed at the person's request.",
    "Shelter placement offered and accepted.",
    "Vocational training discussed as part of the reintegration plan.",
    "An interpreter is required for all meetings.",
    "A debt owed to the recruiter was reported.",
    "Risk assessment completed; no immediate danger identified.",
];

const CLOSURE: &[&str] = &[
    "Reintegration plan completed.",
    "Moved abroad; the case was referred to a partner organisation.",
    "The person declined further assistance.",
    "Assistance goals achieved; follow-up ended.",
    "Contact lost after repeated attempts.",
];

const CONTACT_SUMMARIES: &[&str] = &[
    "Caller reported a possible case of forced labour.",
    "A relative reported a family member missing abroad.",
    "Walk-in asking for help with documents.",
    "Police referral after an operation.",
    "Call about a job offer abroad that seemed suspicious.",
    "Returned migrant asking for assistance.",
    "Follow-up call about an earlier report.",
];

const MOC_BASE: &[(&str, u32)] = &[
    ("FalsePromises", 450),
    ("TakesEarnings", 380),
    ("WithholdsDocuments", 330),
    ("PsychologicalAbuse", 330),
    ("PhysicalThreats", 280),
    ("PhysicalAbuse", 220),
    ("DebtBondage", 200),
    ("RestrictsFinancialAccess", 150),
    ("ThreatensChildrenFamily", 100),
    ("ThreatsLawEnforcement", 80),
    ("WithholdsNecessities", 80),
    ("RestrictsMedicalCare", 50),
    ("PsychoactiveSubstance", 50),
    ("Other", 20),
];

const VULNERABILITIES: &[(&str, u32)] = &[
    ("Poverty", 600),
    ("Migration", 300),
    ("Education", 200),
    ("Homelessness", 80),
    ("MentalHealth", 80),
    ("Addiction", 50),
    ("Discrimination", 40),
    ("DisabilityAndPhysicalHealth", 40),
    ("AbuseSocialMedia", 30),
    ("AbusePhysical", 60),
    ("WorkEnvironment", 50),
];

const RECRUITMENT: &[(&str, u32)] = &[
    ("ThroughFriendsOrSocialEvents", 30),
    ("ThroughFamilyOrFamilyEvents", 25),
    ("ThroughOnlineSocialNetworks", 18),
    ("AtWork", 8),
    ("ThroughAnOnlineAdvertisement", 8),
    ("AtAPlaceOfBusiness", 5),
    ("ThroughANewspaperAdvert", 2),
    ("AtAnEducationalInstitution", 2),
    ("Other", 2),
];

const APPS: &[(&str, u32)] = &[
    ("Instagram", 30),
    ("WhatsApp", 25),
    ("Telegram", 20),
    ("Facebook", 15),
    ("TikTok", 5),
    ("Other", 5),
];

/// One event of a case, `after_ms` after its registration.
#[derive(Debug, Clone)]
pub enum Event {
    Contact {
        after_ms: i64,
        channel: ContactChannel,
        anonymous: bool,
        /// Linked to the case (intake and follow-up calls) or not (a call that led nowhere).
        linked: bool,
        summary: Option<&'static str>,
    },
    Screening {
        after_ms: i64,
        act: bool,
        means: bool,
        purpose: bool,
        is_child: bool,
        methods_of_control: Vec<&'static str>,
        types_of_exploitation: Vec<&'static str>,
        ilo_indicators: Vec<&'static str>,
    },
    Decision {
        after_ms: i64,
        status: TraffickingStatus,
        by: DecisionMakingOrg,
        reference: String,
    },
    Consent {
        after_ms: i64,
        purpose: ConsentPurpose,
        given: bool,
        /// Index into `ORGS` (SharingWithOrganisation).
        recipient_org: Option<usize>,
        recipient_org_type: Option<OrgType>,
        given_by: &'static str,
        language: String,
        withdrawn_after_ms: Option<i64>,
    },
    /// A referral to another organisation (index into `ORGS`) and how it went.
    Referral {
        after_ms: i64,
        to_org: usize,
        services: Vec<Service>,
        reason: &'static str,
        state: ReferralState,
        /// Answer (accept / decline) and end (complete / withdraw), after `after_ms`.
        answered_after_ms: Option<i64>,
        ended_after_ms: Option<i64>,
    },
    /// A needs assessment by the assisting organisation: severity per domain.
    Assessment {
        after_ms: i64,
        org: usize,
        needs: Vec<(NeedDomain, Severity)>,
    },
    /// The individual rehabilitation plan with its goals and actions.
    Plan {
        after_ms: i64,
        org: usize,
        plan_type: PlanType,
        approved_after_ms: Option<i64>,
        goals: Vec<(GoalTerm, NeedDomain)>,
        actions: Vec<PlanAction>,
    },
    /// A service delivered (linked to a plan action by index, or not).
    Service {
        after_ms: i64,
        provider: usize,
        service: Service,
        action: Option<usize>,
        days: Option<i64>,
        outcome: &'static str,
        cost_minor: i64,
    },
    /// A shelter stay in the facility of organisation `facility_org`.
    Stay {
        after_ms: i64,
        facility_org: usize,
        days: i64,
        dependants: i64,
        exit: ExitDestination,
        extension_days: Option<i64>,
    },
    /// The one-time allowance (first registration of an identified victim only).
    Allowance {
        after_ms: i64,
        org: usize,
        paid: bool,
    },
    /// Follow-up after assistance ended (`after_ms`): the schedule, contact attempts per
    /// scheduled month, and questionnaire answers where she was reached.
    FollowUp {
        after_ms: i64,
        months: Vec<u32>,
        rounds: Vec<FollowUpRound>,
    },
}

/// One action of a generated plan (`goal` indexes the plan's goals).
#[derive(Debug, Clone)]
pub struct PlanAction {
    pub goal: usize,
    pub domain: NeedDomain,
    pub service: Service,
    pub status: ActionStatus,
    pub due_after_ms: i64,
}

/// One scheduled follow-up month: attempts (channel, reached) and answers when reached.
#[derive(Debug, Clone)]
pub struct FollowUpRound {
    pub month: u32,
    pub attempts: Vec<(Channel, bool)>,
    pub answers: Option<Answers>,
}

impl Event {
    pub fn after_ms(&self) -> i64 {
        match self {
            Event::Contact { after_ms, .. }
            | Event::Screening { after_ms, .. }
            | Event::Decision { after_ms, .. }
            | Event::Consent { after_ms, .. }
            | Event::Referral { after_ms, .. }
            | Event::Assessment { after_ms, .. }
            | Event::Plan { after_ms, .. }
            | Event::Service { after_ms, .. }
            | Event::Stay { after_ms, .. }
            | Event::Allowance { after_ms, .. }
            | Event::FollowUp { after_ms, .. } => *after_ms,
        }
    }
}

/// One generated case: who registers it and when, the case as a client would submit it, and
/// its events.
#[derive(Debug, Clone)]
pub struct CaseSpec {
    pub index: u64,
    /// The person whose identity the case carries (`index`, or an earlier case's person when
    /// the same person is registered again by another organisation).
    pub person: u64,
    pub org: usize,
    pub at_ms: i64,
    pub input: CaseInput,
    pub events: Vec<Event>,
}

/// Case `i` of a population of `n` under `seed`.
pub fn case(seed: u64, n: u64, i: u64) -> CaseSpec {
    let r = &mut Rng::for_item(seed, STREAM_CASE, i);
    let at_ms = case_time(i, n);
    let mut org = org_of(seed, i);
    // About 2 % of people are registered again, by another organisation (re-trafficking,
    // transfers without a referral): the blind index finds them as possible duplicates.
    let person_index = if i > 0 && r.chance(0.02) {
        let p = i - 1 - r.below(i.min(2_000));
        if org_of(seed, p) == org {
            org = (org + 1) % ORGS.len();
        }
        p
    } else {
        i
    };
    let who = person(seed, n, person_index);
    let feminine = matches!(who.gender, Some("Feminine" | "TransgenderFeminine"));
    let child = who.age.is_some_and(|a| a < 18);
    let adult = who.age.is_none_or(|a| a >= 18);

    // Forms of exploitation.
    use TypeOfExploitation as T;
    let main = if feminine {
        *r.weighted(&[
            (T::SexualExploitation, 720),
            (T::ForcedLabour, 180),
            (T::ForcedMarriage, 40),
            (T::ForcedBegging, 20),
            (T::Servitude, 20),
            (T::Other, 20),
        ])
    } else {
        *r.weighted(&[
            (T::ForcedLabour, 800),
            (T::SexualExploitation, 50),
            (T::ForcedBegging, 50),
            (T::Servitude, 40),
            (T::OrganRemoval, 30),
            (T::Other, 30),
        ])
    };
    let mut types = vec![main];
    if r.chance(0.07) {
        let extra = if main == T::SexualExploitation {
            T::ForcedLabour
        } else {
            T::SexualExploitation
        };
        types.push(extra);
    }
    if child && types.contains(&T::ForcedLabour) && r.chance(0.6) {
        types.push(T::ChildLabour);
    }
    let sexual = types.contains(&T::SexualExploitation);
    let labour = types.contains(&T::ForcedLabour) || types.contains(&T::ChildLabour);

    // Victim context.
    let mut moc: Vec<&'static str> = r.each(MOC_BASE);
    if sexual && r.chance(0.35) {
        moc.push("SexualAbuse");
    }
    if labour && r.chance(0.4) {
        moc.push("ExcessiveWorkingHours");
    }
    if moc.is_empty() {
        moc.push("FalsePromises");
    }
    let relationship = if r.chance(0.12) {
        None
    } else {
        Some(*r.weighted(&[("Familial", 36), ("Acquainted", 37), ("Unaquainted", 27)]))
    };
    let mut recruitment = vec![*r.weighted(RECRUITMENT)];
    if r.chance(0.2) {
        let second = *r.weighted(RECRUITMENT);
        if !recruitment.contains(&second) {
            recruitment.push(second);
        }
    }
    let online = recruitment.iter().any(|m| m.contains("Online"));
    let apps: Vec<String> = if online {
        let mut a = vec![r.weighted(APPS).to_string()];
        if r.chance(0.3) {
            let b = r.weighted(APPS).to_string();
            if !a.contains(&b) {
                a.push(b);
            }
        }
        a
    } else {
        Vec::new()
    };
    let industry = labour.then(|| {
        r.weighted(&[
            ("F_Construction", if feminine { 5 } else { 40 }),
            (
                "T_ActivitiesOfHouseholdsAsEmployers",
                if feminine { 40 } else { 3 },
            ),
            ("A_AgricultureForestryAndFishing", 15),
            ("I_AccommodationAndFoodServiceActivities", 12),
            ("C_Manufacturing", 8),
            ("G_WholesaleAndRetailTradeRepairOfMotorVehicles", 6),
            ("H_TransportationAndStorage", 4),
            ("S_OtherServiceActivities", 5),
        ])
        .to_string()
    });
    let sex_type: Vec<String> = if sexual {
        vec![
            r.weighted(&[
                ("Prostitution", 85),
                ("PrivateSexualServices", 8),
                ("Pornography", 4),
                ("RemoteInteractiveServices", 3),
            ])
            .to_string(),
        ]
    } else {
        Vec::new()
    };
    let mut vulnerabilities: Vec<String> = r
        .each(VULNERABILITIES)
        .iter()
        .map(|v| v.to_string())
        .collect();
    if child {
        vulnerabilities.retain(|v| v != "WorkEnvironment");
    }
    let context = VictimContext {
        marital_status: adult.then(|| {
            r.weighted(&[
                ("Single", 50),
                ("Married", 25),
                ("Divorced", 15),
                ("Widowed", 4),
                ("Separated", 6),
            ])
            .to_string()
        }),
        number_of_children: adult
            .then(|| *r.weighted(&[(0, 45), (1, 25), (2, 20), (3, 7), (4, 3)])),
        primary_language: Some(who.language.to_string()),
        secondary_language: (who.language != "ru" && r.chance(0.4)).then(|| "ru".to_string()),
        relationship_to_trafficker: relationship.map(str::to_string),
        method_of_recruitment: recruitment.iter().map(|s| s.to_string()).collect(),
        recruitment_websites_and_apps: apps,
        methods_of_control: moc.iter().map(|s| s.to_string()).collect(),
        forced_labour_industry: industry,
        type_of_sex_exploitation: sex_type,
        vulnerabilities,
    };

    // Status: older cases are more often closed.
    let age_days = (END_MS - at_ms) / DAY_MS;
    let status = if age_days > 730 {
        *r.weighted(&[
            ("Closed", 55),
            ("ClosedReferred", 15),
            ("FollowUp", 20),
            ("Active", 10),
        ])
    } else if age_days > 180 {
        *r.weighted(&[
            ("Active", 30),
            ("FollowUp", 40),
            ("Closed", 25),
            ("ClosedReferred", 5),
        ])
    } else {
        *r.weighted(&[("Active", 80), ("FollowUp", 15), ("Closed", 5)])
    };
    let closure =
        matches!(status, "Closed" | "ClosedReferred").then(|| r.pick(CLOSURE).to_string());
    let mut identity = who.identity.clone();
    if r.chance(0.7) {
        let k = r.range(1, 5);
        identity.notes = Some((0..k).map(|_| r.pick(NOTES)).collect::<Vec<_>>().join(" "));
    }
    let input = CaseInput {
        identity,
        context,
        gender: who.gender.map(str::to_string),
        citizenship: who.citizenship.iter().map(|c| c.to_string()).collect(),
        age_when_trafficked: who.age,
        types_of_exploitation: types.iter().map(|t| t.as_str().to_string()).collect(),
        status: Some(status.to_string()),
        reason_for_closure: closure,
    };
    let mut events = events(seed, i, at_ms, org, &who, child, &types, &moc);
    assistance_events(
        seed,
        i,
        at_ms,
        org,
        person_index == i,
        &who,
        &types,
        &mut events,
    );
    CaseSpec {
        index: i,
        person: person_index,
        org,
        at_ms,
        input,
        events,
    }
}

/// The events of case `i` (events after `END_MS` are left out: they have not happened yet).
#[allow(clippy::too_many_arguments)]
fn events(
    seed: u64,
    i: u64,
    at_ms: i64,
    org: usize,
    who: &Person,
    child: bool,
    types: &[TypeOfExploitation],
    moc: &[&'static str],
) -> Vec<Event> {
    let r = &mut Rng::for_item(seed, STREAM_EVENTS, i);
    let mut out = Vec::new();
    let minutes = |r: &mut Rng, lo: i64, hi: i64| r.range(lo, hi) * 60_000;
    // Intake contact (before or at registration: offset 0), maybe follow-up calls, and calls
    // that did not become a case.
    let channels = ORGS[org].channels;
    out.push(Event::Contact {
        after_ms: 0,
        channel: *r.weighted(channels),
        anonymous: false,
        linked: true,
        summary: r.chance(0.8).then(|| r.pick(CONTACT_SUMMARIES)),
    });
    if r.chance(0.25) {
        out.push(Event::Contact {
            after_ms: minutes(r, 60, 60 * 24 * 90),
            channel: ContactChannel::Hotline,
            anonymous: false,
            linked: true,
            summary: r.chance(0.6).then(|| r.pick(CONTACT_SUMMARIES)),
        });
    }
    if r.chance(0.35) {
        out.push(Event::Contact {
            after_ms: minutes(r, 1, 60 * 24 * 30),
            channel: *r.weighted(channels),
            anonymous: r.chance(0.6),
            linked: false,
            summary: r.chance(0.5).then(|| r.pick(CONTACT_SUMMARIES)),
        });
    }
    // Screening against the UN Protocol definition; sometimes repeated.
    let toe: Vec<&'static str> = types.iter().map(|t| t.as_str()).collect();
    let mut possible = false;
    if r.chance(0.95) {
        for k in 0..if r.chance(0.12) { 2 } else { 1 } {
            let act = r.chance(0.97);
            let purpose = r.chance(0.95);
            let means = r.chance(0.85);
            possible |=
                dayaq_domain::identification::is_possible_victim(act, means, purpose, child);
            let mut ilo: Vec<&'static str> = ILO_INDICATORS
                .iter()
                .copied()
                .filter(|_| r.chance(0.3))
                .collect();
            if ilo.is_empty() {
                ilo.push("Deception");
            }
            out.push(Event::Screening {
                after_ms: minutes(r, 30, 60 * 24 * 3) + k * 20 * DAY_MS,
                act,
                means,
                purpose,
                is_child: child,
                methods_of_control: moc.to_vec(),
                types_of_exploitation: toe.clone(),
                ilo_indicators: ilo,
            });
        }
    }
    // The formal identification decision (the police, sometimes a court), for most screened
    // possible victims; now and then revised.
    if possible && r.chance(0.65) {
        let n = if r.chance(0.04) { 2 } else { 1 };
        let mut after = r.range(15, 120) * DAY_MS;
        for k in 0..n {
            let status = if r.chance(0.78) {
                TraffickingStatus::ActualVictimOfTrafficking
            } else {
                TraffickingStatus::NotAVictimOfTrafficking
            };
            out.push(Event::Decision {
                after_ms: after,
                status,
                by: *r.weighted(&[
                    (DecisionMakingOrg::Police, 85),
                    (DecisionMakingOrg::CourtOrProsecution, 10),
                    (DecisionMakingOrg::Other, 5),
                ]),
                reference: format!("SYN-DEC-{i:x}-{k}"),
            });
            after += r.range(30, 200) * DAY_MS;
        }
    }
    // Consents, recorded at intake.
    let given_by = if child {
        "ParentOrGuardian"
    } else {
        "Survivor"
    };
    let lang = if who.language.len() == 2 {
        who.language
    } else {
        "ru"
    };
    let consent =
        |r: &mut Rng, purpose, p_given: f64, org_ix: Option<usize>, t: Option<OrgType>| {
            let given = r.chance(p_given);
            Event::Consent {
                after_ms: minutes(r, 10, 60 * 24 * 7),
                purpose,
                given,
                recipient_org: org_ix,
                recipient_org_type: t,
                given_by,
                language: lang.to_string(),
                withdrawn_after_ms: (given && r.chance(0.03)).then(|| r.range(30, 400) * DAY_MS),
            }
        };
    out.push(consent(r, ConsentPurpose::Assistance, 0.96, None, None));
    if r.chance(0.7) {
        out.push(consent(r, ConsentPurpose::FollowUpContact, 0.8, None, None));
    }
    if r.chance(0.4) {
        let t = r.pick(&[OrgType::NGO, OrgType::CentralGovernmentOrganisation]);
        out.push(consent(
            r,
            ConsentPurpose::SharingWithOrganisationType,
            0.9,
            None,
            Some(t),
        ));
    }
    if r.chance(0.15) {
        let other = (org + 1 + r.below(ORGS.len() as u64 - 1) as usize) % ORGS.len();
        out.push(consent(
            r,
            ConsentPurpose::SharingWithOrganisation,
            0.9,
            Some(other),
            None,
        ));
    }
    if r.chance(0.25) {
        out.push(consent(r, ConsentPurpose::Research, 0.6, None, None));
    }
    out.retain(|e| at_ms + e.after_ms() < END_MS);
    out
}

/// Organisations that deliver assistance themselves (the police and the hotline refer).
fn provides_assistance(org: usize) -> bool {
    !matches!(ORGS[org].org_type, "LawEnforcement") && ORGS[org].slug != "bench-hotline"
}

/// Organisations that run a shelter: (index into `ORGS`, beds, longest stay in days, state
/// shelter). The state shelter's legal limit is 30 days.
pub const SHELTERS: &[(usize, i64, i64, bool)] =
    &[(5, 50, 30, true), (2, 20, 90, false), (4, 10, 60, false)];

/// The service a plan action for a need in `domain` usually names.
fn service_for(r: &mut Rng, domain: NeedDomain) -> Service {
    use NeedDomain as D;
    match domain {
        D::Safety => Service::PersonalSafety,
        D::PhysicalHealth => Service::Medical,
        D::MentalHealth => Service::PsychologicalCounselling,
        D::Legal => Service::LegalConsultation,
        D::Housing => Service::Housing,
        D::EmploymentIncome => *r.weighted(&[
            (Service::JobPlacement, 40),
            (Service::JobCounselling, 30),
            (Service::VocationalTraining, 30),
        ]),
        D::EducationSkills => Service::VocationalTraining,
        D::FamilySocial => Service::FamilyMediation,
        D::Dependants => Service::ChildrenSchooling,
    }
}

fn is_long_term(domain: NeedDomain) -> bool {
    use NeedDomain as D;
    matches!(
        domain,
        D::Housing | D::EmploymentIncome | D::EducationSkills | D::FamilySocial | D::Dependants
    )
}

/// Referrals, needs assessment, plan, services, shelter stay, allowance and follow-up of a
/// case, drawn from its identification events. Proportions follow the seeds: short-term help
/// (shelter, medical, psychological, legal) is mostly delivered, long-term actions (jobs,
/// housing, family) are often still open or cancelled, and follow-up contact thins out over
/// two years.
#[allow(clippy::too_many_arguments)]
fn assistance_events(
    seed: u64,
    i: u64,
    at_ms: i64,
    org: usize,
    first_registration: bool,
    who: &Person,
    types: &[TypeOfExploitation],
    out: &mut Vec<Event>,
) {
    let r = &mut Rng::for_item(seed, STREAM_ASSISTANCE, i);
    let consented = |p: ConsentPurpose| {
        out.iter().any(|e| {
            matches!(e, Event::Consent { purpose, given: true, withdrawn_after_ms: None, .. } if *purpose == p)
        })
    };
    let assistance = consented(ConsentPurpose::Assistance);
    let followup = consented(ConsentPurpose::FollowUpContact);
    let screened_possible = out.iter().any(|e| {
        matches!(
            e,
            Event::Screening {
                act: true,
                purpose: true,
                ..
            }
        )
    });
    let last_decision = out
        .iter()
        .filter_map(|e| match e {
            Event::Decision {
                after_ms, status, ..
            } => Some((*after_ms, *status)),
            _ => None,
        })
        .max_by_key(|(a, _)| *a);
    // Identified as a victim by the latest decision (and since when).
    let identified_at = last_decision
        .filter(|(_, s)| *s == TraffickingStatus::ActualVictimOfTrafficking)
        .map(|(a, _)| a);
    if !assistance || !(screened_possible || r.chance(0.3)) {
        return;
    }
    let mut new: Vec<Event> = Vec::new();
    let days = |r: &mut Rng, lo: i64, hi: i64| r.range(lo, hi) * DAY_MS;
    let feminine = matches!(who.gender, Some("Feminine" | "TransgenderFeminine"));
    let adult = who.age.is_none_or(|a| a >= 18);

    // Who assists: the registering organisation, or (police, hotline) the one it refers to.
    let provider = if provides_assistance(org) {
        org
    } else {
        *r.weighted(&[(0usize, 50), (5, 30), (2, 20)])
    };
    let mut t = days(r, 0, 5);
    if provider != org {
        new.push(Event::Referral {
            after_ms: t,
            to_org: provider,
            services: if provider == 5 {
                vec![Service::Shelter, Service::PsychologicalCounselling]
            } else {
                vec![
                    Service::PsychologicalCounselling,
                    Service::Medical,
                    Service::LegalConsultation,
                ]
            },
            reason: "AdditionalServicesRequired",
            state: ReferralState::Completed,
            answered_after_ms: Some(days(r, 0, 3) + 3_600_000),
            ended_after_ms: Some(days(r, 60, 240)),
        });
        t += days(r, 1, 4);
    }

    // Needs assessment, sometimes repeated after a few months.
    let mut needs: Vec<(NeedDomain, Severity)> = NeedDomain::ALL
        .iter()
        .filter(|d| **d != NeedDomain::Dependants || adult)
        .map(|d| {
            let sev = *r.weighted(&[
                (Severity::None, 25),
                (Severity::Low, 25),
                (Severity::Medium, 30),
                (Severity::High, 20),
            ]);
            (*d, sev)
        })
        .collect();
    new.push(Event::Assessment {
        after_ms: t,
        org: provider,
        needs: needs.clone(),
    });
    if r.chance(0.3) {
        for n in needs.iter_mut() {
            if n.1 == Severity::High && r.chance(0.5) {
                n.1 = Severity::Medium;
            }
        }
        new.push(Event::Assessment {
            after_ms: t + days(r, 90, 200),
            org: provider,
            needs: needs.clone(),
        });
    }

    // The plan: a short-term and a long-term goal per serious need (at most four goals).
    t += days(r, 2, 14);
    let plan_type = if types.contains(&TypeOfExploitation::SexualExploitation) {
        PlanType::SexualExploitationRehabilitation
    } else if types.contains(&TypeOfExploitation::ForcedLabour) {
        PlanType::LabourExploitationRehabilitation
    } else {
        PlanType::SocialCare
    };
    let serious: Vec<NeedDomain> = needs
        .iter()
        .filter(|(_, s)| s.needs_action())
        .map(|(d, _)| *d)
        .collect();
    let mut goals: Vec<(GoalTerm, NeedDomain)> = Vec::new();
    let mut actions: Vec<PlanAction> = Vec::new();
    for d in serious.iter().take(4) {
        let term = if is_long_term(*d) {
            GoalTerm::LongTerm
        } else {
            GoalTerm::ShortTerm
        };
        goals.push((term, *d));
        let g = goals.len() - 1;
        for _ in 0..r.range(1, 3) {
            let status = if term == GoalTerm::ShortTerm {
                *r.weighted(&[
                    (ActionStatus::Done, 75),
                    (ActionStatus::InProgress, 10),
                    (ActionStatus::Planned, 5),
                    (ActionStatus::Cancelled, 10),
                ])
            } else {
                *r.weighted(&[
                    (ActionStatus::Done, 30),
                    (ActionStatus::InProgress, 20),
                    (ActionStatus::Planned, 25),
                    (ActionStatus::Cancelled, 25),
                ])
            };
            actions.push(PlanAction {
                goal: g,
                domain: *d,
                service: service_for(r, *d),
                status,
                due_after_ms: if term == GoalTerm::ShortTerm {
                    days(r, 14, 60)
                } else {
                    days(r, 120, 540)
                },
            });
        }
    }
    let plan_actions = actions.clone();
    new.push(Event::Plan {
        after_ms: t,
        org: provider,
        plan_type,
        approved_after_ms: r.chance(0.9).then(|| days(r, 0, 7) + 3_600_000),
        goals,
        actions,
    });

    // Services: for every action started, one or more deliveries; counselling in sessions.
    for (k, a) in plan_actions.iter().enumerate() {
        if !matches!(a.status, ActionStatus::Done | ActionStatus::InProgress) {
            continue;
        }
        let sessions = if a.service == Service::PsychologicalCounselling {
            r.range(3, 12)
        } else {
            r.range(1, 3)
        };
        let mut s_at = t + days(r, 1, 20);
        for n in 0..sessions {
            let last = n + 1 == sessions;
            let outcome = if !last {
                "Completed"
            } else if a.status == ActionStatus::InProgress {
                "Ongoing"
            } else {
                *r.weighted(&[("Completed", 85), ("Discontinued", 10), ("Declined", 5)])
            };
            new.push(Event::Service {
                after_ms: s_at,
                provider,
                service: a.service,
                action: Some(k),
                days: (outcome != "Ongoing").then(|| r.range(0, 30)),
                outcome,
                cost_minor: r.range(0, 400) * 100,
            });
            s_at += days(r, 5, 21);
        }
    }
    // Financial and other help outside the plan.
    for _ in 0..r.range(0, 4) {
        new.push(Event::Service {
            after_ms: t + days(r, 0, 120),
            provider,
            service: *r.weighted(&[
                (Service::FinancialAssistance, 40),
                (Service::Medical, 30),
                (Service::Other, 30),
            ]),
            action: None,
            days: Some(r.range(0, 5)),
            outcome: "Completed",
            cost_minor: r.range(10, 300) * 100,
        });
    }

    // Further referrals for long-term help (jobs, training, housing) — often declined or
    // still pending: the gap the seeds describe.
    if r.chance(0.35) {
        let to = *r.weighted(&[(0usize, 40), (2, 25), (3, 15), (4, 10), (6, 10)]);
        if to != provider {
            let state = *r.weighted(&[
                (ReferralState::Completed, 45),
                (ReferralState::Accepted, 15),
                (ReferralState::Declined, 15),
                (ReferralState::Withdrawn, 10),
                (ReferralState::Pending, 15),
            ]);
            let answered = (state != ReferralState::Pending && state != ReferralState::Withdrawn)
                .then(|| days(r, 1, 30));
            let ended = matches!(state, ReferralState::Completed | ReferralState::Withdrawn)
                .then(|| days(r, 40, 300));
            let reason = *r.weighted(&[
                ("AdditionalServicesRequired", 85),
                ("MigrationOrChangeOfLocation", 10),
                ("Other", 5),
            ]);
            new.push(Event::Referral {
                after_ms: t + days(r, 20, 200),
                to_org: to,
                services: vec![*r.weighted(&[
                    (Service::VocationalTraining, 35),
                    (Service::JobPlacement, 30),
                    (Service::Housing, 20),
                    (Service::LegalConsultation, 15),
                ])],
                reason,
                state,
                answered_after_ms: answered,
                ended_after_ms: ended,
            });
        }
    }

    // Shelter.
    if r.chance(if feminine { 0.45 } else { 0.2 }) {
        let facility_org = match provider {
            0 | 5 => 5,
            4 => 4,
            _ => 2,
        };
        let (_, _, max_days, state) = SHELTERS
            .iter()
            .copied()
            .find(|s| s.0 == facility_org)
            .unwrap_or(SHELTERS[0]);
        let extension = (state && r.chance(0.12)).then(|| r.range(7, 30));
        let stay = r.range(5, max_days) + extension.unwrap_or(0);
        new.push(Event::Stay {
            after_ms: days(r, 0, 3),
            facility_org,
            days: stay,
            dependants: if adult && r.chance(0.15) {
                r.range(1, 3)
            } else {
                0
            },
            exit: *r.weighted(&[
                (ExitDestination::Family, 55),
                (ExitDestination::IndependentHousing, 15),
                (ExitDestination::OtherShelter, 10),
                (ExitDestination::ReturnHome, 8),
                (ExitDestination::Hospital, 2),
                (ExitDestination::Unknown, 5),
                (ExitDestination::Other, 5),
            ]),
            extension_days: extension,
        });
    }

    // The one-time allowance, once per person, for identified victims, after the decision.
    if let Some(decided) = identified_at.filter(|_| first_registration && r.chance(0.9)) {
        new.push(Event::Allowance {
            after_ms: decided + days(r, 3, 60),
            org: provider,
            paid: r.chance(0.9),
        });
    }

    // Follow-up: the default schedule from the end of assistance; reach thins out.
    if followup {
        let end = t + days(r, 60, 300);
        let mut rounds = Vec::new();
        let mut p_reach = 0.9;
        let mut last: Option<Answers> = None;
        for m in DEFAULT_MONTHS {
            let mut attempts = Vec::new();
            let mut reached = false;
            for _ in 0..3 {
                let ch = *r.weighted(&[
                    (Channel::Phone, 60),
                    (Channel::Messenger, 25),
                    (Channel::Sms, 10),
                    (Channel::Visit, 5),
                ]);
                reached = r.chance(p_reach);
                attempts.push((ch, reached));
                if reached {
                    break;
                }
            }
            let answers = (reached && matches!(m, 6 | 12 | 24)).then(|| {
                let a = answers(r, last.as_ref());
                last = Some(a.clone());
                a
            });
            rounds.push(FollowUpRound {
                month: *m,
                attempts,
                answers,
            });
            p_reach *= 0.93;
        }
        new.push(Event::FollowUp {
            after_ms: end,
            months: DEFAULT_MONTHS.to_vec(),
            rounds,
        });
    }
    new.retain(|e| at_ms + e.after_ms() < END_MS);
    out.extend(new);
}

/// Questionnaire answers: one code per single-choice question (drifting from the previous
/// round), one or two per multiple-choice question.
fn answers(r: &mut Rng, previous: Option<&Answers>) -> Answers {
    let mut a = Answers::new();
    for q in QUESTIONS {
        if r.chance(0.05) {
            continue;
        }
        let pick = |r: &mut Rng| q.codes[r.below(q.codes.len() as u64) as usize].to_string();
        let codes = match q.kind {
            QuestionKind::Single { .. } => match previous.and_then(|p| p.get(q.key)) {
                Some(prev) if r.chance(0.6) => prev.clone(),
                _ => vec![pick(r)],
            },
            QuestionKind::Multi => {
                let mut v = vec![pick(r)];
                if r.chance(0.4) {
                    let b = pick(r);
                    if !v.contains(&b) {
                        v.push(b);
                    }
                }
                v
            }
        };
        a.insert(q.key.to_string(), codes);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_deterministic_and_valid() {
        for i in 0..300 {
            let a = case(42, 300, i);
            let b = case(42, 300, i);
            assert_eq!(a.input.identity, b.input.identity);
            assert_eq!(a.org, b.org);
            assert_eq!(a.events.len(), b.events.len());
            let v = a.input.clone().validate(today());
            assert!(v.is_ok(), "case {i}: {:?}", v.err());
        }
    }

    #[test]
    fn assistance_events_follow_the_rules() {
        let n = 2_000;
        let (mut allowances, mut followups, mut plans) = (0, 0, 0);
        for i in 0..n {
            let c = case(3, n, i);
            let decided = c
                .events
                .iter()
                .filter_map(|e| match e {
                    Event::Decision {
                        after_ms, status, ..
                    } => Some((*after_ms, *status)),
                    _ => None,
                })
                .max_by_key(|x| x.0);
            let consented = |p: ConsentPurpose| {
                c.events.iter().any(
                    |x| matches!(x, Event::Consent { purpose, given: true, .. } if *purpose == p),
                )
            };
            for e in &c.events {
                match e {
                    Event::Allowance { after_ms, .. } => {
                        allowances += 1;
                        let (d, s) = decided.expect("an allowance needs a decision");
                        assert_eq!(s, TraffickingStatus::ActualVictimOfTrafficking);
                        assert!(*after_ms > d, "paid before the decision");
                        assert_eq!(c.person, c.index, "once per person");
                    }
                    Event::FollowUp { rounds, .. } => {
                        followups += 1;
                        assert!(consented(ConsentPurpose::FollowUpContact));
                        assert!(rounds.iter().all(|r| !r.attempts.is_empty()));
                    }
                    Event::Plan { goals, actions, .. } => {
                        plans += 1;
                        assert!(consented(ConsentPurpose::Assistance));
                        assert!(actions.iter().all(|a| a.goal < goals.len()));
                    }
                    Event::Stay {
                        facility_org,
                        days,
                        extension_days,
                        ..
                    } => {
                        let (_, _, max, state) = SHELTERS
                            .iter()
                            .copied()
                            .find(|s| s.0 == *facility_org)
                            .expect("a shelter");
                        assert!(*days <= max + extension_days.unwrap_or(0));
                        assert!(state || extension_days.is_none());
                    }
                    _ => {}
                }
            }
        }
        assert!(allowances > 0 && followups > 0 && plans > 0);
    }

    #[test]
    fn marginals_are_roughly_right() {
        let n = 4_000;
        let cases: Vec<CaseSpec> = (0..n).map(|i| case(7, n, i)).collect();
        let share =
            |f: &dyn Fn(&CaseSpec) -> bool| cases.iter().filter(|c| f(c)).count() as f64 / n as f64;
        let fem = share(&|c| c.input.gender.as_deref() == Some("Feminine"));
        assert!((0.64..0.76).contains(&fem), "{fem}");
        let az = share(&|c| c.input.citizenship.first().map(String::as_str) == Some("AZ"));
        assert!((0.72..0.84).contains(&az), "{az}");
        let sexual_or_labour = share(&|c| {
            c.input
                .types_of_exploitation
                .iter()
                .any(|t| t == "SexualExploitation" || t == "ForcedLabour")
        });
        assert!(sexual_or_labour > 0.85, "{sexual_or_labour}");
        let close = share(&|c| {
            matches!(
                c.input.context.relationship_to_trafficker.as_deref(),
                Some("Familial" | "Acquainted")
            )
        });
        assert!((0.58..0.72).contains(&close), "{close}");
        // Time order follows the index.
        assert!(cases.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    }
}
