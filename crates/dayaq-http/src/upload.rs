//! File uploads from HTML forms (`multipart/form-data`), parsed by axum's `Multipart`
//! extractor (the `multer` crate). The session layer cannot read the CSRF field of a multipart
//! body, so upload forms post through htmx, which sends the token in `X-CSRF-Token`.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;

/// Why an upload gave no file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadError {
    /// Not a multipart body, or no non-empty part named `file`.
    NoFile,
    /// The body could not be read (too large for the body limit, or cut off).
    Unreadable,
}

/// The content of the part named `file`.
pub async fn file_field(mp: Result<Multipart, MultipartRejection>) -> Result<Vec<u8>, UploadError> {
    let mut mp = mp.map_err(|_| UploadError::NoFile)?;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                if field.name() == Some("file") {
                    let bytes = field.bytes().await.map_err(|_| UploadError::Unreadable)?;
                    if bytes.is_empty() {
                        return Err(UploadError::NoFile);
                    }
                    return Ok(bytes.to_vec());
                }
            }
            Ok(None) => return Err(UploadError::NoFile),
            Err(_) => return Err(UploadError::Unreadable),
        }
    }
}

// ---------- attachments (issue #21): streamed, never whole in memory ----------

use crate::AppState;
use crate::error::AppError;
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::Action;
use dayaq_storage::attachments::{AttachmentDownload, AttachmentView};
use dayaq_storage::cases::Ctx;
use futures_util::StreamExt;

/// Uploads an attachment from a multipart body: asks the policy first (a refused caller learns
/// nothing from the body), then streams the part `file` into the store. The section comes from
/// `section` (a query parameter) or a part `section` sent before `file` (the screen's form).
pub(crate) async fn attachment_upload(
    state: &AppState,
    ctx: &Ctx<'_>,
    case: uuid::Uuid,
    mut section: Option<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<AttachmentView, AppError> {
    state
        .store
        .authorize_case(ctx, Action::UpdateCase, case)
        .await?;
    let no_file = || {
        AppError::field(
            "file",
            "required",
            "send the file as the multipart/form-data part named file",
        )
    };
    let cut = || {
        AppError::field(
            "file",
            "interrupted",
            "the upload was cut off before the end of the file; nothing was kept, send it again",
        )
    };
    let mut mp = mp.map_err(|_| no_file())?;
    loop {
        let Some(field) = mp.next_field().await.map_err(|_| cut())? else {
            return Err(no_file());
        };
        match field.name() {
            Some("section") => {
                section = Some(field.text().await.map_err(|_| cut())?);
            }
            Some("file") => {
                let name = field.file_name().map(str::to_owned);
                let body = Box::pin(field.map(|r| r.map_err(std::io::Error::other)));
                let section = section.unwrap_or_default();
                return Ok(state
                    .store
                    .upload_attachment(ctx, case, &section, name.as_deref(), body)
                    .await?);
            }
            _ => {}
        }
    }
}

/// The download answer: neutral name, `Content-Disposition: attachment`, no caching, no
/// sniffing; the body decrypts as it streams.
pub(crate) fn attachment_response(d: AttachmentDownload) -> Response {
    (
        [
            (CONTENT_TYPE, d.kind.mime().to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", d.file_name),
            ),
            (CONTENT_LENGTH, d.size_bytes.to_string()),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(d.body),
    )
        .into_response()
}
