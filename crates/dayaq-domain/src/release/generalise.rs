//! The fixed generalisations of a release. They are the same for every release, whatever its
//! period or data (the differencing rule of docs/RELEASES.md): an age always falls in the same
//! CTDC broad group, a country is always released as itself or always as its region.

use super::Majority;

/// CTDC's broad age groups (`ageBroad`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgeBroad {
    A0to8,
    A9to17,
    A18to20,
    A21to23,
    A24to26,
    A27to29,
    A30to38,
    A39to47,
    A48Plus,
}

impl AgeBroad {
    pub const ALL: &'static [AgeBroad] = &[
        Self::A0to8,
        Self::A9to17,
        Self::A18to20,
        Self::A21to23,
        Self::A24to26,
        Self::A27to29,
        Self::A30to38,
        Self::A39to47,
        Self::A48Plus,
    ];

    /// The group of an age in whole years (negative ages are not ages: `None`).
    pub fn of(age: i64) -> Option<Self> {
        Some(match age {
            i64::MIN..=-1 => return None,
            0..=8 => Self::A0to8,
            9..=17 => Self::A9to17,
            18..=20 => Self::A18to20,
            21..=23 => Self::A21to23,
            24..=26 => Self::A24to26,
            27..=29 => Self::A27to29,
            30..=38 => Self::A30to38,
            39..=47 => Self::A39to47,
            _ => Self::A48Plus,
        })
    }

    /// CTDC's label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A0to8 => "0--8",
            Self::A9to17 => "9--17",
            Self::A18to20 => "18--20",
            Self::A21to23 => "21--23",
            Self::A24to26 => "24--26",
            Self::A27to29 => "27--29",
            Self::A30to38 => "30--38",
            Self::A39to47 => "39--47",
            Self::A48Plus => "48+",
        }
    }

    /// Whether the group lies wholly below or above 18.
    pub fn majority(self) -> Majority {
        match self {
            Self::A0to8 | Self::A9to17 => Majority::Minor,
            _ => Majority::Adult,
        }
    }
}

/// Countries released as themselves: the citizenships and destinations the national mechanism
/// meets most often. Every other country is released as its region. A fixed list, so the
/// generalisation never depends on the data of a period.
pub const COUNTRY_LEVEL: &[&str] = &[
    "AZ", "RU", "TR", "GE", "UZ", "TJ", "TM", "KG", "KZ", "UA", "IR", "AE",
];

/// UN M49 (sub-)regions for every ISO 3166-1 alpha-2 code, as a compact table. A code missing
/// from it (Antarctica, an unassigned one) is `Other`.
const REGIONS: &[(&str, &[&str])] = &[
    (
        "WesternAsia",
        &[
            "AM", "AZ", "BH", "CY", "GE", "IQ", "IL", "JO", "KW", "LB", "OM", "PS", "QA", "SA",
            "SY", "TR", "AE", "YE",
        ],
    ),
    ("CentralAsia", &["KZ", "KG", "TJ", "TM", "UZ"]),
    (
        "SouthernAsia",
        &["AF", "BD", "BT", "IN", "IR", "LK", "MV", "NP", "PK"],
    ),
    (
        "EasternAsia",
        &["CN", "HK", "JP", "KP", "KR", "MN", "MO", "TW"],
    ),
    (
        "SouthEasternAsia",
        &[
            "BN", "ID", "KH", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN",
        ],
    ),
    (
        "EasternEurope",
        &["BG", "BY", "CZ", "HU", "MD", "PL", "RO", "RU", "SK", "UA"],
    ),
    (
        "NorthernEurope",
        &[
            "AX", "DK", "EE", "FI", "FO", "GB", "GG", "IE", "IM", "IS", "JE", "LT", "LV", "NO",
            "SE", "SJ",
        ],
    ),
    (
        "SouthernEurope",
        &[
            "AD", "AL", "BA", "ES", "GI", "GR", "HR", "IT", "ME", "MK", "MT", "PT", "RS", "SI",
            "SM", "VA",
        ],
    ),
    (
        "WesternEurope",
        &["AT", "BE", "CH", "DE", "FR", "LI", "LU", "MC", "NL"],
    ),
    (
        "NorthernAfrica",
        &["DZ", "EG", "EH", "LY", "MA", "SD", "TN"],
    ),
    (
        "SubSaharanAfrica",
        &[
            "AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ", "ER", "ET",
            "GA", "GH", "GM", "GN", "GQ", "GW", "IO", "KE", "KM", "LR", "LS", "MG", "ML", "MR",
            "MU", "MW", "MZ", "NA", "NE", "NG", "RE", "RW", "SC", "SH", "SL", "SN", "SO", "SS",
            "ST", "SZ", "TD", "TF", "TG", "TZ", "UG", "YT", "ZA", "ZM", "ZW",
        ],
    ),
    (
        "LatinAmericaAndTheCaribbean",
        &[
            "AG", "AI", "AR", "AW", "BB", "BL", "BO", "BQ", "BR", "BS", "BV", "BZ", "CL", "CO",
            "CR", "CU", "CW", "DM", "DO", "EC", "FK", "GD", "GF", "GP", "GS", "GT", "GY", "HN",
            "HT", "JM", "KN", "KY", "LC", "MF", "MQ", "MS", "MX", "NI", "PA", "PE", "PR", "PY",
            "SR", "SV", "SX", "TC", "TT", "UY", "VC", "VE", "VG", "VI",
        ],
    ),
    ("NorthernAmerica", &["BM", "CA", "GL", "PM", "US"]),
    (
        "Oceania",
        &[
            "AS", "AU", "CC", "CK", "CX", "FJ", "FM", "GU", "HM", "KI", "MH", "MP", "NC", "NF",
            "NR", "NU", "NZ", "PF", "PG", "PN", "PW", "SB", "TK", "TO", "TV", "UM", "VU", "WF",
            "WS",
        ],
    ),
];

/// Every value [`country_group`] can return besides the country-level codes: the regions,
/// `Other`, and `Multiple`.
pub fn region_names() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|(r, _)| *r).chain(["Other", "Multiple"])
}

/// The UN M49 region of a country code.
pub fn region_of(country: &str) -> &'static str {
    REGIONS
        .iter()
        .find(|(_, cs)| cs.contains(&country))
        .map_or("Other", |(r, _)| r)
}

/// A country as released: itself when on the country-level list, else its region.
pub fn country_group(country: &str) -> &'static str {
    COUNTRY_LEVEL
        .iter()
        .find(|c| **c == country)
        .copied()
        .unwrap_or_else(|| region_of(country))
}

/// A list of countries (citizenships, countries of exploitation) as one released value:
/// empty → `None` (not recorded); one → [`country_group`]; several → the common group when
/// they all fall in one, else `Multiple`.
pub fn citizenship_group(countries: &[String]) -> Option<&'static str> {
    let mut groups = countries.iter().map(|c| country_group(c));
    let first = groups.next()?;
    Some(if groups.all(|g| g == first) {
        first
    } else {
        "Multiple"
    })
}

/// Every released value of a country variable, in a fixed order (the domain of a DP table).
pub fn country_values() -> Vec<&'static str> {
    COUNTRY_LEVEL
        .iter()
        .copied()
        .chain(region_names())
        .collect()
}
