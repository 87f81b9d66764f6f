//! Uploaded files: which are acceptable (recognised by their first bytes, never by the declared
//! type alone), their content address (SM3), and where they are kept (the `uploads` table,
//! one row per distinct content). Case materials and complaint photos both come through here.

use serde::Serialize;

use crate::http::FieldError;
use crate::store::{Db, StoreResult, query};

/// Largest file accepted for one material (bytes). Scans of a few pages fit comfortably.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The file types accepted for materials, recognised by their first bytes (the declared type
/// alone is not trusted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    /// OFD (GB/T 33190), China's fixed-layout format: a ZIP container named `.ofd`.
    Ofd,
}

impl FileKind {
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Ofd => "application/ofd",
        }
    }
}

/// The content address of a file: its SM3 hash (GB/T 32905) in lower-case hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    use sm3::{Digest, Sm3};
    hex::encode(Sm3::digest(bytes))
}

/// Why a file is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileProblem {
    Empty,
    TooLarge,
    ForbiddenType,
}

/// Recognises an acceptable file by its content (and, for OFD, its name).
pub fn check_file(file_name: &str, bytes: &[u8]) -> Result<FileKind, FileProblem> {
    if bytes.is_empty() {
        return Err(FileProblem::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(FileProblem::TooLarge);
    }
    if bytes.starts_with(b"%PDF-") {
        Ok(FileKind::Pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(FileKind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(FileKind::Jpeg)
    } else if bytes.starts_with(b"PK\x03\x04") && file_name.to_ascii_lowercase().ends_with(".ofd") {
        Ok(FileKind::Ofd)
    } else {
        Err(FileProblem::ForbiddenType)
    }
}

/// The field error for a refused file, naming the material it was meant for.
pub fn file_error(field: &str, material: &str, problem: FileProblem) -> FieldError {
    let mb = MAX_UPLOAD_BYTES / (1024 * 1024);
    match problem {
        FileProblem::Empty => FieldError::new(
            field,
            "file_empty",
            format!("材料“{material}”的文件是空的"),
            format!("The file for material \"{material}\" is empty"),
        ),
        FileProblem::TooLarge => FieldError::new(
            field,
            "file_too_large",
            format!("材料“{material}”的文件超过{mb}MB"),
            format!("The file for material \"{material}\" is larger than {mb} MB"),
        ),
        FileProblem::ForbiddenType => FieldError::new(
            field,
            "file_type_forbidden",
            format!("材料“{material}”只接受 PDF、OFD、JPEG 或 PNG 文件"),
            format!("Material \"{material}\" accepts PDF, OFD, JPEG or PNG files only"),
        ),
    }
}

/// Stores a file under its SM3 hash (once, however often it is uploaded) and returns the hash.
pub async fn put_upload(db: &Db, bytes: Vec<u8>, content_type: &str, by: &str) -> StoreResult<String> {
    let hash = sm3_hex(&bytes);
    let (h, ct, by) = (hash.clone(), content_type.to_string(), by.to_string());
    let size = bytes.len() as i64;
    let now = db.now_text();
    db.write(move |conn| {
        query(
            "INSERT INTO uploads (hash, size, content_type, content, uploaded_by, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&h)
        .bind(size)
        .bind(&ct)
        .bind(bytes)
        .bind(&by)
        .bind(&now)
        .execute(&mut *conn)?;
        Ok(())
    })
    .await?;
    Ok(hash)
}

/// Size and type of a stored upload.
pub async fn upload_meta(db: &Db, hash: &str) -> StoreResult<Option<(i64, String)>> {
    let row =
        query("SELECT size, content_type FROM uploads WHERE hash = $1").bind(hash).read_optional(db).await?;
    row.map(|r| Ok((r.try_get("size")?, r.try_get("content_type")?))).transpose()
}

pub async fn upload_content(db: &Db, hash: &str) -> StoreResult<Option<(String, Vec<u8>)>> {
    let row = query("SELECT content_type, content FROM uploads WHERE hash = $1")
        .bind(hash)
        .read_optional(db)
        .await?;
    row.map(|r| Ok((r.try_get("content_type")?, r.try_get("content")?))).transpose()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_are_recognised_by_content() {
        assert_eq!(check_file("a.pdf", b"%PDF-1.7 ..."), Ok(FileKind::Pdf));
        assert_eq!(check_file("a.png", b"\x89PNG\r\n\x1a\n...."), Ok(FileKind::Png));
        assert_eq!(check_file("a.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]), Ok(FileKind::Jpeg));
        assert_eq!(check_file("a.ofd", b"PK\x03\x04...."), Ok(FileKind::Ofd));
        // A ZIP that is not named .ofd, an executable renamed .pdf, and an empty file.
        assert_eq!(check_file("a.zip", b"PK\x03\x04...."), Err(FileProblem::ForbiddenType));
        assert_eq!(check_file("a.pdf", b"MZ\x90\x00"), Err(FileProblem::ForbiddenType));
        assert_eq!(check_file("a.pdf", b""), Err(FileProblem::Empty));
        let big = vec![b'%'; MAX_UPLOAD_BYTES + 1];
        assert_eq!(check_file("a.pdf", &big), Err(FileProblem::TooLarge));
        let e = file_error("materials[1]", "公司章程", FileProblem::ForbiddenType);
        assert!(e.message_zh.contains("公司章程") && e.field == "materials[1]");
    }
}
