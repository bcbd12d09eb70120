use serde::Serialize;

/// One invalid field: which field (HTCDS name where one exists), a stable code, and a message
/// that never repeats the submitted value (it may be personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// All problems found in one input. Validation collects every error, not only the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("{} invalid field(s)", .errors.len())]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
    pub fn single(e: FieldError) -> Self {
        Self { errors: vec![e] }
    }
    /// Adds every problem of `other`.
    pub fn extend(&mut self, other: ValidationErrors) {
        self.errors.extend(other.errors);
    }
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}
