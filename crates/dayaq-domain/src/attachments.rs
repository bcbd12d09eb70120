//! Attachments (issue #21 §1): files on a case section — the rules without I/O.
//!
//! - Need-to-know: an attachment belongs to one section; reading it (list, download) is
//!   `ReadSection(section)`, so a referral grant of a section grants its attachments and
//!   nothing else. Adding and deleting one is case work of the owning organisation
//!   (`UpdateCase`, which referrals never grant) on a section the actor may read.
//! - The type is decided by the content (magic bytes), never by the name or the client's
//!   `Content-Type`: PDF, JPEG and PNG; images must declare sane dimensions.
//! - The name the user gave is kept (sealed) only to show it on the case; it must not be a path
//!   nor hold control characters. Downloads use a neutral name (`attachment-<id>.<ext>`).

use crate::FieldError;
use crate::policy::{Action, Section};

/// Default largest file, in bytes (25 MiB); `serve --attachment-max-bytes` changes it.
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// Longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Bytes of the file's start the type and image checks read.
pub const SNIFF_BYTES: usize = 64 * 1024;
/// Largest image side, in pixels, and largest image area (a decompression-bomb guard for
/// whoever opens the file later).
pub const MAX_IMAGE_SIDE: usize = 20_000;
pub const MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// What a file is, by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[Kind::Pdf, Kind::Jpeg, Kind::Png];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Jpeg => "jpeg",
            Kind::Png => "png",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
        }
    }
}

/// What may happen to an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// List or download.
    Read,
    /// Upload or delete.
    Write,
}

/// The policy questions an operation on an attachment of `section` asks; all must be allowed.
pub fn actions(op: Op, section: Section) -> Vec<Action> {
    match op {
        Op::Read => vec![Action::ReadSection(section)],
        Op::Write => vec![Action::UpdateCase, Action::ReadSection(section)],
    }
}

/// The type of a file from its first bytes (at least the first [`SNIFF_BYTES`] or the whole
/// file), or a field error naming `file`.
pub fn sniff(head: &[u8]) -> Result<Kind, FieldError> {
    let kind = match infer::get(head).map(|t| t.mime_type()) {
        Some("application/pdf") => Kind::Pdf,
        Some("image/jpeg") => Kind::Jpeg,
        Some("image/png") => Kind::Png,
        _ => {
            return Err(FieldError::new(
                "file",
                "type_not_allowed",
                "only PDF, JPEG and PNG files are accepted (checked by content, not by name)",
            ));
        }
    };
    if kind != Kind::Pdf {
        check_image(head)?;
    }
    Ok(kind)
}

/// An image's declared dimensions must be readable from its start and within the limits.
fn check_image(head: &[u8]) -> Result<(), FieldError> {
    let size = imagesize::blob_size(head).map_err(|_| {
        FieldError::new(
            "file",
            "image_unreadable",
            "the image's dimensions could not be read from its header",
        )
    })?;
    let pixels = (size.width as u64).saturating_mul(size.height as u64);
    if size.width == 0
        || size.height == 0
        || size.width > MAX_IMAGE_SIDE
        || size.height > MAX_IMAGE_SIDE
        || pixels > MAX_IMAGE_PIXELS
    {
        return Err(FieldError::new(
            "file",
            "image_dimensions",
            format!(
                "image dimensions must be between 1 and {MAX_IMAGE_SIDE} pixels a side and at most {MAX_IMAGE_PIXELS} pixels in all"
            ),
        ));
    }
    Ok(())
}

/// The shown name of a file: trimmed, 1..=[`MAX_NAME_CHARS`] characters, no path separator,
/// no control character, not `.` or `..`. An absent name becomes `attachment`.
pub fn validate_name(raw: Option<&str>) -> Result<String, FieldError> {
    let name = raw.map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Ok("attachment".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "control_characters",
            "the file name must not contain control characters",
        ));
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." || name.contains(':') {
        return Err(FieldError::new(
            "name",
            "path_not_allowed",
            "the file name must be a plain name, not a path",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            "too_long",
            format!("the file name must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// The error for a file over `max` bytes.
pub fn too_large(max: u64) -> FieldError {
    FieldError::new(
        "file",
        "too_large",
        format!("the file must be at most {} MiB", max.div_ceil(1024 * 1024)),
    )
}

/// The neutral name a download carries (no trace of the stored name).
pub fn download_name(id: uuid::Uuid, kind: Kind) -> String {
    format!("attachment-{}.{}", id.simple(), kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{CaseFacts, Grant, Resource, decide};
    use crate::{Actor, Role};
    use proptest::prelude::*;
    use uuid::Uuid;

    const PNG_1X1: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
    ];

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut v = PNG_1X1.to_vec();
        v[16..20].copy_from_slice(&w.to_be_bytes());
        v[20..24].copy_from_slice(&h.to_be_bytes());
        v
    }

    #[test]
    fn sniffing_uses_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n%...").ok(), Some(Kind::Pdf));
        assert_eq!(sniff(&png(10, 10)).ok(), Some(Kind::Png));
        let zip = b"PK\x03\x04\x14\x00\x00\x00";
        assert_eq!(sniff(zip).err().map(|e| e.code), Some("type_not_allowed"));
        assert_eq!(
            sniff(b"MZ\x90\x00 an exe").err().map(|e| e.code),
            Some("type_not_allowed")
        );
        assert_eq!(sniff(b"").err().map(|e| e.field), Some("file".to_owned()));
    }

    #[test]
    fn image_dimensions_are_bounded() {
        assert_eq!(
            sniff(&png(30_000, 1)).err().map(|e| e.code),
            Some("image_dimensions")
        );
        assert_eq!(
            sniff(&png(15_000, 15_000)).err().map(|e| e.code),
            Some("image_dimensions")
        );
        assert_eq!(
            sniff(&png(0, 5)).err().map(|e| e.code),
            Some("image_dimensions")
        );
        assert!(sniff(&png(4000, 3000)).is_ok());
        assert_eq!(
            sniff(&PNG_1X1[..12]).err().map(|e| e.code),
            Some("image_unreadable")
        );
    }

    #[test]
    fn names_that_are_paths_or_hold_control_characters_are_refused() {
        for bad in [
            "../etc/passwd",
            "a/b.pdf",
            "c:\\x.pdf",
            "..",
            "x\u{0}.pdf",
            "a\nb",
        ] {
            assert!(validate_name(Some(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(
            validate_name(Some(" scan.pdf ")).ok().as_deref(),
            Some("scan.pdf")
        );
        assert_eq!(validate_name(None).ok().as_deref(), Some("attachment"));
        assert_eq!(
            validate_name(Some(&"a".repeat(201))).err().map(|e| e.code),
            Some("too_long")
        );
    }

    fn section() -> impl Strategy<Value = Section> {
        proptest::sample::select(Section::ALL.to_vec())
    }

    fn role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }

    proptest! {
        /// Another organisation's referral grant opens the attachments of exactly the granted
        /// sections, for reading only; names never produce a path.
        #[test]
        fn grant_opens_attachments_of_granted_sections_only(
            granted in proptest::collection::vec(section(), 0..4),
            s in section(),
            r in role(),
        ) {
            let owner = Uuid::from_u128(1);
            let receiver = Uuid::from_u128(2);
            let facts = CaseFacts {
                owner_org: owner,
                erased: false,
                grants: vec![Grant { org_id: receiver, sections: granted.clone() }],
                break_glass: Vec::new(),
            };
            let actor = Actor { user_id: Uuid::from_u128(9), org_id: receiver, role: r };
            let allowed = |op| actions(op, s).into_iter()
                .all(|a| decide(&actor, a, Resource::Case(&facts)).allowed);
            prop_assert!(!allowed(Op::Write));
            if allowed(Op::Read) {
                prop_assert!(granted.contains(&s));
            }
            if granted.contains(&s) && r.works_cases() {
                prop_assert!(allowed(Op::Read));
            }
        }

        #[test]
        fn accepted_names_are_never_paths(raw in "\\PC{0,40}") {
            if let Ok(n) = validate_name(Some(&raw)) {
                prop_assert!(!n.contains('/') && !n.contains('\\') && n != "..");
                prop_assert!(!n.chars().any(char::is_control));
            }
        }
    }
}
