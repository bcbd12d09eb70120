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
