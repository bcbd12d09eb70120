//! Reading the printable documents (issue 21 §2) as a person would: the text of a PDF through
//! `pdftotext` and its first page as a PNG through `pdftoppm` (Debian poppler-utils, installed
//! by `scripts/test` and `.ci/run`).

use std::process::Command;

/// Runs a poppler tool on `pdf` (written to a temporary file), then `tail`; returns its
/// standard output.
fn poppler(tool: &str, args: &[&str], pdf: &[u8], tail: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = Command::new(tool)
        .args(args)
        .arg(&path)
        .args(tail)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian poppler-utils) must be installed: {e}"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The text of `pdf` in reading order (UTF-8).
pub fn pdf_text(pdf: &[u8]) -> String {
    String::from_utf8(poppler("pdftotext", &["-enc", "UTF-8"], pdf, &["-"])).expect("UTF-8 text")
}

/// The first page of `pdf` as a PNG at 60 dpi.
pub fn pdf_first_page_png(pdf: &[u8]) -> Vec<u8> {
    poppler(
        "pdftoppm",
        &["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"],
        pdf,
        &[],
    )
}
