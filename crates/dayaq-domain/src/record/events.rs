//! Trafficking events (HTCDS `hte_*`): input, validation, sealed parts, view, chronological order.

use super::*;

// ---------------------------------------------------------------- trafficking events

/// A trafficking event as a client sends it. Unknown keys are rejected.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    #[serde(rename = "hte_Type", default)]
    pub kind: String,
    #[serde(rename = "hte_Country", default)]
    pub country: Option<String>,
    #[serde(rename = "hte_City", default)]
    pub city: Option<String>,
    #[serde(rename = "hte_State", default)]
    pub state: Option<String>,
    #[serde(rename = "hte_Street", default)]
    pub street: Option<String>,
    #[serde(rename = "hte_PostalCode", default)]
    pub postal_code: Option<String>,
    /// YYYY-MM-DD.
    #[serde(rename = "hte_Date", default)]
    pub date: Option<String>,
    #[serde(rename = "hte_Description", default)]
    pub description: Option<String>,
    #[serde(rename = "hte_Latitude", default)]
    pub latitude: Option<f64>,
    #[serde(rename = "hte_Longitude", default)]
    pub longitude: Option<f64>,
}

/// The parts of an event that can point at a person or tell her story: sealed with the case
/// key (street, postal code, exact coordinates, description).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventSealed {
    #[serde(
        rename = "hte_Street",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub street: Option<String>,
    #[serde(
        rename = "hte_PostalCode",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub postal_code: Option<String>,
    #[serde(
        rename = "hte_Description",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub description: Option<String>,
    #[serde(
        rename = "hte_Latitude",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub latitude: Option<f64>,
    #[serde(
        rename = "hte_Longitude",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub longitude: Option<f64>,
}

/// A validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    pub kind: EventType,
    pub country: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub date: Option<Date>,
    pub sealed: EventSealed,
}

/// The earliest date an event may carry.
pub const EARLIEST_EVENT_YEAR: i32 = 1900;

impl EventInput {
    /// Checks every field; `today` bounds the date (an event cannot be in the future).
    pub fn validate(self, today: Date) -> Result<ValidEvent, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let kind = match self.kind.trim() {
            "" => {
                errs.push(required("hte_Type"));
                None
            }
            k => EventType::parse(k).map_err(|e| errs.push(e)).ok(),
        };
        let mut country = self.country.map(|c| c.trim().to_string());
        if country.as_deref() == Some("") {
            country = None;
        }
        if let Some(c) = &country
            && let Err(e) = parse_country("hte_Country", c)
        {
            errs.push(e);
        }
        let mut city = self.city;
        let mut state = self.state;
        let mut street = self.street;
        let mut postal_code = self.postal_code;
        let mut description = self.description;
        check_text(&mut errs, "hte_City", &mut city, MAX_SHORT_TEXT);
        check_text(&mut errs, "hte_State", &mut state, MAX_SHORT_TEXT);
        check_text(&mut errs, "hte_Street", &mut street, MAX_SHORT_TEXT);
        check_text(&mut errs, "hte_PostalCode", &mut postal_code, 20);
        check_text(
            &mut errs,
            "hte_Description",
            &mut description,
            MAX_LONG_TEXT,
        );
        let date = match self.date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => match parse_date("hte_Date", d) {
                Ok(d) if d > today => {
                    errs.push(FieldError::new(
                        "hte_Date",
                        "in_future",
                        "hte_Date cannot be in the future",
                    ));
                    None
                }
                Ok(d) if d.year() < EARLIEST_EVENT_YEAR => {
                    errs.push(FieldError::new(
                        "hte_Date",
                        "too_early",
                        format!("hte_Date cannot be before {EARLIEST_EVENT_YEAR}"),
                    ));
                    None
                }
                Ok(d) => Some(d),
                Err(e) => {
                    errs.push(e);
                    None
                }
            },
        };
        check_coordinates(&mut errs, self.latitude, self.longitude);
        errs.into_result()?;
        Ok(ValidEvent {
            kind: kind.ok_or_else(|| ValidationErrors::single(required("hte_Type")))?,
            country,
            city,
            state,
            date,
            sealed: EventSealed {
                street,
                postal_code,
                description,
                latitude: self.latitude,
                longitude: self.longitude,
            },
        })
    }
}

/// Latitude in [-90, 90], longitude in [-180, 180], finite, and given together.
pub fn check_coordinates(errs: &mut ValidationErrors, lat: Option<f64>, lon: Option<f64>) {
    if let Some(x) = lat
        && !(x.is_finite() && (-90.0..=90.0).contains(&x))
    {
        errs.push(FieldError::new(
            "hte_Latitude",
            "out_of_range",
            "hte_Latitude must be between -90 and 90",
        ));
    }
    if let Some(x) = lon
        && !(x.is_finite() && (-180.0..=180.0).contains(&x))
    {
        errs.push(FieldError::new(
            "hte_Longitude",
            "out_of_range",
            "hte_Longitude must be between -180 and 180",
        ));
    }
    match (lat, lon) {
        (Some(_), None) => errs.push(FieldError::new(
            "hte_Longitude",
            "required_with_latitude",
            "hte_Longitude is required with hte_Latitude",
        )),
        (None, Some(_)) => errs.push(FieldError::new(
            "hte_Latitude",
            "required_with_longitude",
            "hte_Latitude is required with hte_Longitude",
        )),
        _ => {}
    }
}

/// An event as the API returns it (sealed parts opened when the reader may see them).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: uuid::Uuid,
    #[serde(rename = "hte_Type")]
    pub kind: EventType,
    #[serde(rename = "hte_Country", skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(rename = "hte_City", skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(rename = "hte_State", skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// YYYY-MM-DD.
    #[serde(rename = "hte_Date", skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(flatten)]
    pub sealed: EventSealed,
    pub created_at: String,
    /// Entry time in milliseconds, the last ordering key.
    #[serde(skip)]
    pub entered_ms: i64,
}

/// Chronological order: dated events by date; on the same date recruitment, then transit,
/// then exploitation; undated events last; ties in the order they were entered.
pub fn sort_chronologically(v: &mut [EventView]) {
    v.sort_by(|a, b| {
        (a.date.is_none(), &a.date, a.kind, a.entered_ms, a.id).cmp(&(
            b.date.is_none(),
            &b.date,
            b.kind,
            b.entered_ms,
            b.id,
        ))
    });
}
