//! `dayaq demo`: a synthetic demo world modelled on the seeds (Azerbaijan's referral
//! mechanism), loaded once into an empty data directory, then served.
//!
//! Everything here is invented: names are built from "Test"/"Demo" stems, identity numbers
//! start with DEMO, phone numbers are generated from the record's index.

use crate::cli::{GlobalOpts, ServeArgs};
use crate::commands::open;
use anyhow::{Context, bail};
use dayaq_domain::Role;
use dayaq_domain::case::{CaseInput, Identity, VictimContext};
use dayaq_domain::referral::Eligibility;
use dayaq_storage::assistance::FacilityInput;
use dayaq_storage::cases::Ctx;
use dayaq_storage::referrals::ServiceOffer;
use dayaq_storage::rules::AdmissionRulesInput;
use dayaq_storage::users::User;
use dayaq_storage::{Store, StoreError};
use std::process::ExitCode;
use time::{Date, OffsetDateTime};

/// The password of every demo account. Demo data only: never put real data in a demo.
pub const DEMO_PASSWORD: &str = "dayaq-demo-2026";
/// The TOTP secret of every demo account whose role requires a second factor (20 bytes).
pub const DEMO_TOTP_SECRET: &[u8; 20] = b"dayaq-demo-totp-2026";
/// The organisation whose presence marks a loaded demo world.
const MARKER_ORG: &str = "police-atd";
const SOURCE: &str = "demo-loader";

/// (slug, name, HTCDS org_Type, region)
pub const ORGS: &[(&str, &str, &str, &str)] = &[
    (
        "police-atd",
        "Anti-Trafficking Department (Ministry of Internal Affairs)",
        "LawEnforcement",
        "Baku",
    ),
    (
        "assistance-center",
        "Assistance Center for Victims of Trafficking",
        "CentralGovernmentOrganisation",
        "Baku",
    ),
    (
        "state-shelter",
        "State Shelter for Victims of Trafficking",
        "CentralGovernmentOrganisation",
        "Baku",
    ),
    (
        "ngo-shelter-baku",
        "Clean World shelter (NGO)",
        "NGO",
        "Baku",
    ),
    ("ngo-ganja", "Regional NGO, Ganja", "NGO", "Ganja-Gazakh"),
    ("iom", "IOM Azerbaijan", "NGO", "Baku"),
    (
        "hotline",
        "National Hotline 152",
        "CentralGovernmentOrganisation",
        "Baku",
    ),
    (
        "dayaq-system",
        "Dayaq system administration",
        "CentralGovernmentOrganisation",
        "Baku",
    ),
];

/// (username, role, organisation slug)
pub const USERS: &[(&str, Role, &str)] = &[
    ("demo.caseworker", Role::Caseworker, "ngo-shelter-baku"),
    ("demo.caseworker2", Role::Caseworker, "assistance-center"),
    ("demo.caseworker3", Role::Caseworker, "ngo-ganja"),
    ("demo.supervisor", Role::Supervisor, "ngo-shelter-baku"),
    ("demo.police", Role::PoliceOfficer, "police-atd"),
    ("demo.hotline", Role::HotlineOperator, "hotline"),
    ("demo.orgadmin", Role::OrgAdmin, "ngo-shelter-baku"),
    ("demo.shelter", Role::Supervisor, "state-shelter"),
    (
        "demo.coordinator",
        Role::NationalCoordinator,
        "dayaq-system",
    ),
    ("demo.researcher", Role::Researcher, "dayaq-system"),
    ("demo.auditor", Role::Auditor, "dayaq-system"),
    ("demo.sysadmin", Role::SystemAdmin, "dayaq-system"),
];

/// How many synthetic cases each organisation holds, and which demo user records them.
const CASES: &[(&str, &str, usize)] = &[
    ("ngo-shelter-baku", "demo.caseworker", 14),
    ("assistance-center", "demo.caseworker2", 8),
    ("ngo-ganja", "demo.caseworker3", 6),
    ("police-atd", "demo.police", 7),
    ("hotline", "demo.hotline", 5),
];

const FIRST_FEMININE: &[&str] = &[
    "Aytəkin",
    "Günay",
    "Leyla",
    "Nərmin",
    "Səbinə",
    "Aynur",
    "Kamilə",
    "Ülviyyə",
    "Zəhra",
    "Fidan",
    "Nigar",
    "Lalə",
    "Dilnoza",
    "Malika",
    "Ra'no",
];
const FIRST_MASCULINE: &[&str] = &["Elvin", "Rəşad", "Tural"];
const SURNAME_STEMS: &[&str] = &["Test", "Demo", "Nümunə", "Sınaq", "Misal"];

/// Loads the demo world unless it is already there, then prints the logins.
pub async fn run(g: &GlobalOpts, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let store = open(g).await?;
    print_warning();
    match store.org_by_slug(MARKER_ORG).await {
        Ok(_) => println!("demo world already loaded; not loading it again"),
        Err(StoreError::NotFound) => {
            if !store.is_empty().await? {
                bail!(
                    "this data directory holds data that is not a Dayaq demo world; the demo \
                     (with its published passwords) loads only into an empty data directory"
                );
            }
            let n = load(&store)
                .await
                .context("loading the demo world failed")?;
            println!(
                "demo world loaded: {} organisations, {} users, {n} synthetic cases",
                ORGS.len(),
                USERS.len()
            );
            tracing::info!(cases = n, "demo world loaded");
        }
        Err(e) => return Err(e.into()),
    }
    print_logins();
    crate::server::run(store, args).await?;
    Ok(ExitCode::SUCCESS)
}

fn print_warning() {
    println!("WARNING: demo mode. Synthetic data and published passwords: never enter real data.");
}

/// The base32 form of the demo TOTP secret (for an authenticator app).
pub fn totp_base32() -> String {
    totp_rs::Secret::new_stack(*DEMO_TOTP_SECRET).to_base32()
}

fn print_logins() {
    let b32 = totp_base32();
    println!();
    println!("Demo logins (password for all: {DEMO_PASSWORD}):");
    println!(
        "{:18}  {:20}  {:18}  {:16}  TOTP SECRET",
        "USERNAME", "ROLE", "ORGANISATION", "PASSWORD"
    );
    for (username, role, org) in USERS {
        let totp = if role.requires_totp() {
            b32.as_str()
        } else {
            "-"
        };
        println!(
            "{username:18}  {:20}  {org:18}  {DEMO_PASSWORD:16}  {totp}",
            role.as_str()
        );
    }
    println!();
}

/// Loads organisations, users and cases. Returns the number of cases created.
/// (organisation, service, region, free places, state-shelter rules, women only).
type ServiceRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<i64>,
    bool,
    bool,
);
const SERVICES: &[ServiceRow] = &[
    ("state-shelter", "Shelter", "Baku", Some(30), true, false),
    ("ngo-shelter-baku", "Shelter", "Baku", Some(12), false, true),
    (
        "ngo-shelter-baku",
        "PsychologicalCounselling",
        "Baku",
        None,
        false,
        false,
    ),
    (
        "ngo-shelter-baku",
        "LegalConsultation",
        "Baku",
        None,
        false,
        false,
    ),
    (
        "assistance-center",
        "VocationalTraining",
        "Baku",
        None,
        false,
        false,
    ),
    (
        "assistance-center",
        "JobPlacement",
        "Baku",
        None,
        false,
        false,
    ),
    (
        "assistance-center",
        "JobCounselling",
        "Baku",
        None,
        false,
        false,
    ),
    ("assistance-center", "Medical", "Baku", None, false, false),
    (
        "assistance-center",
        "PsychologicalCounselling",
        "Baku",
        None,
        false,
        false,
    ),
    (
        "assistance-center",
        "FinancialAssistance",
        "Baku",
        None,
        false,
        false,
    ),
    (
        "ngo-ganja",
        "PsychologicalCounselling",
        "Ganja-Gazakh",
        None,
        false,
        false,
    ),
    (
        "ngo-ganja",
        "JobCounselling",
        "Ganja-Gazakh",
        None,
        false,
        false,
    ),
    ("iom", "ReturnHome", "Baku", None, false, false),
    ("iom", "AirportMeeting", "Baku", None, false, false),
    ("police-atd", "PersonalSafety", "Baku", None, false, false),
];

pub async fn load(store: &Store) -> anyhow::Result<usize> {
    let now = OffsetDateTime::now_utc();
    for (slug, name, org_type, region) in ORGS {
        store.add_org(slug, name, org_type, region, now).await?;
    }
    for (username, role, org) in USERS {
        let u = store
            .add_user(org, role.as_str(), username, DEMO_PASSWORD, now)
            .await?;
        if role.requires_totp() {
            store.totp_set_secret(&u, DEMO_TOTP_SECRET).await?;
        }
    }
    // The service directory, modelled on the seeds (services outside Baku are scarce).
    let admin = store.user_by_name("demo.sysadmin").await?;
    let admin_actor = admin.actor();
    let admin_ctx = Ctx {
        actor: &admin_actor,
        source: SOURCE,
        now,
    };
    for (org, service, region, capacity, police, women) in SERVICES {
        let offer = ServiceOffer {
            service: service.to_string(),
            region: region.to_string(),
            city: region.split('-').next().unwrap_or(region).to_string(),
            languages: "az,ru".to_string(),
            opening_hours: "Mon-Fri 09:00-18:00".to_string(),
            capacity: *capacity,
            eligibility: Eligibility {
                requires_police_cooperation: *police,
                requires_criminal_case: *police,
                requires_identified_victim: *police,
                women_only: *women,
                ..Eligibility::default()
            },
        };
        store.set_service(&admin_ctx, org, &offer).await?;
    }
    shelters(store, now).await?;
    let today = now.date();
    let mut index = 0usize;
    for (_org, username, count) in CASES {
        let user: User = store.user_by_name(username).await?;
        let actor = user.actor();
        let ctx = Ctx {
            actor: &actor,
            source: SOURCE,
            now,
        };
        for _ in 0..*count {
            let case = synthetic_case(index, today).validate(today)?;
            store.create_case(&ctx, &case).await?;
            index += 1;
        }
    }
    Ok(index)
}

/// The two shelters of the demo world. The coordinator switches on the state shelter's
/// cooperation condition to show the Azerbaijani rule (a new installation has none; the
/// screens then cite CoE Convention art. 12(6)).
async fn shelters(store: &Store, now: OffsetDateTime) -> anyhow::Result<()> {
    let at = |actor| Ctx {
        actor,
        source: SOURCE,
        now,
    };
    let state = store.user_by_name("demo.shelter").await?.actor();
    let ngo = store.user_by_name("demo.supervisor").await?.actor();
    let coord = store.user_by_name("demo.coordinator").await?.actor();
    let state_shelter = store
        .add_facility(
            &at(&state),
            &FacilityInput {
                name: "State shelter (Baku)".into(),
                beds: 30,
                max_stay_days: None,
                state_shelter: true,
            },
        )
        .await?;
    store
        .add_facility(
            &at(&ngo),
            &FacilityInput {
                name: "Clean World shelter".into(),
                beds: 12,
                max_stay_days: Some(90),
                state_shelter: false,
            },
        )
        .await?;
    store
        .set_admission_rules(
            &at(&coord),
            state_shelter.id,
            &AdmissionRulesInput {
                requires_cooperation: true,
            },
        )
        .await?;
    Ok(())
}

/// A deterministic synthetic case for index `i`. Proportions follow the seeds: almost all
/// women, one girl, a few men; mostly Azerbaijani citizens with some from Uzbekistan,
/// Tajikistan and Russia; mostly sexual exploitation, some forced labour.
pub fn synthetic_case(i: usize, today: Date) -> CaseInput {
    let masculine = i % 13 == 5;
    let age: i64 = if i == 11 {
        16
    } else {
        18 + ((i * 7) % 28) as i64
    };
    let first = if masculine {
        FIRST_MASCULINE[(i / 13) % FIRST_MASCULINE.len()]
    } else {
        FIRST_FEMININE[(i * 5) % FIRST_FEMININE.len()]
    };
    let stem = SURNAME_STEMS[(i * 3) % SURNAME_STEMS.len()];
    let second = if masculine {
        format!("{stem}ov")
    } else {
        format!("{stem}ova")
    };
    let citizenship = match i % 12 {
        3 => "UZ",
        7 => "TJ",
        10 if i > 20 => "RU",
        _ => "AZ",
    };
    let types: Vec<String> = if masculine || i % 5 == 2 {
        vec!["ForcedLabour".into()]
    } else if i % 9 == 4 {
        vec!["SexualExploitation".into(), "ForcedLabour".into()]
    } else {
        vec!["SexualExploitation".into()]
    };
    // Years since trafficking (0-3), then a birth date consistent with the age.
    let years_ago = (i % 4) as i32;
    let birth_year = today.year() - age as i32 - years_ago - 1;
    let birthdate = format!("{birth_year:04}-{:02}-{:02}", 1 + i % 12, 1 + (i * 11) % 28);
    let prefix = ["50", "51", "55", "70", "77"][i % 5];
    let phone = format!(
        "+994{prefix}{:07}",
        (i as u64 * 7_919_113 + 1_234_567) % 10_000_000
    );
    let (status, closure) = match i % 10 {
        6 => ("FollowUp", None),
        9 => (
            "Closed",
            Some("Reintegrated (synthetic demo record).".to_string()),
        ),
        _ => ("Active", None),
    };
    let city = if (20..28).contains(&i) {
        "Ganja"
    } else {
        "Baku"
    };
    CaseInput {
        identity: Identity {
            first_name: Some(first.to_string()),
            second_name: Some(second),
            birthdate: Some(birthdate),
            identity_number: (citizenship == "AZ").then(|| format!("DEMO{:07}", 1000 + i * 37)),
            mobile_phone: Some(phone),
            mailing_city: Some(city.to_string()),
            mailing_country: Some("AZ".to_string()),
            notes: Some("Synthetic demo record. Not a real person.".to_string()),
            ..Identity::default()
        },
        gender: Some(if masculine { "Masculine" } else { "Feminine" }.to_string()),
        citizenship: vec![citizenship.to_string()],
        age_when_trafficked: Some(age),
        types_of_exploitation: types,
        status: Some(status.to_string()),
        reason_for_closure: closure,
        context: VictimContext {
            marital_status: Some(["Single", "Married", "Divorced"][i % 3].to_string()),
            primary_language: Some(if citizenship == "AZ" { "az" } else { "ru" }.to_string()),
            // 16 of 22 surveyed survivors were trafficked by family, neighbours or friends.
            relationship_to_trafficker: Some(
                if i % 4 == 3 {
                    "Unaquainted"
                } else if i.is_multiple_of(3) {
                    "Familial"
                } else {
                    "Acquainted"
                }
                .to_string(),
            ),
            method_of_recruitment: vec![
                if i.is_multiple_of(2) {
                    "ThroughFriendsOrSocialEvents"
                } else {
                    "ThroughFamilyOrFamilyEvents"
                }
                .to_string(),
            ],
            methods_of_control: vec![
                "FalsePromises".to_string(),
                if i.is_multiple_of(2) {
                    "WithholdsDocuments"
                } else {
                    "DebtBondage"
                }
                .to_string(),
            ],
            vulnerabilities: vec!["Poverty".to_string()],
            ..VictimContext::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        time::macros::date!(2026 - 03 - 01)
    }

    #[test]
    fn every_synthetic_case_is_valid() {
        let total: usize = CASES.iter().map(|c| c.2).sum();
        assert_eq!(total, 40);
        for i in 0..total {
            let r = synthetic_case(i, today()).validate(today());
            assert!(r.is_ok(), "case {i}: {r:?}");
        }
    }

    #[test]
    fn proportions_follow_the_seeds() {
        let cases: Vec<CaseInput> = (0..40).map(|i| synthetic_case(i, today())).collect();
        let men = cases
            .iter()
            .filter(|c| c.gender.as_deref() == Some("Masculine"))
            .count();
        let girls = cases
            .iter()
            .filter(|c| c.gender.as_deref() == Some("Feminine") && c.age_when_trafficked < Some(18))
            .count();
        assert_eq!((men, girls), (3, 1));
        assert!(
            cases
                .iter()
                .all(|c| (16..=45).contains(&c.age_when_trafficked.unwrap_or(0)))
        );
    }

    #[test]
    fn demo_secrets_have_the_promised_shape() {
        assert_eq!(DEMO_TOTP_SECRET.len(), 20);
        assert!(DEMO_PASSWORD.len() >= dayaq_storage::users::MIN_PASSWORD_CHARS);
        assert_eq!(totp_base32().len(), 32);
    }

    #[test]
    fn every_demo_user_belongs_to_a_demo_org() {
        for (_, _, org) in USERS {
            assert!(ORGS.iter().any(|o| o.0 == *org));
        }
        for (org, user, _) in CASES {
            assert!(
                USERS
                    .iter()
                    .any(|u| u.0 == *user && u.2 == *org && u.1.works_cases())
            );
        }
    }
}
