//! File types from the file's own bytes, never from its name or the client's
//! Content-Type. The sniffer sees the upload as it streams past, chunk by chunk.

use std::fmt;

/// A type we accept for some document kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Docx,
    Doc,
    Odt,
    Rtf,
    Text,
    Jpeg,
    Png,
    Webp,
}

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Doc => "application/msword",
            FileType::Odt => "application/vnd.oasis.opendocument.text",
            FileType::Rtf => "application/rtf",
            FileType::Text => "text/plain; charset=utf-8",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
        }
    }

    /// The usual file name extension, for a file written out under a name
    /// of our own (never the one the client sent).
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Docx => "docx",
            FileType::Doc => "doc",
            FileType::Odt => "odt",
            FileType::Rtf => "rtf",
            FileType::Text => "txt",
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Webp => "webp",
        }
    }

    /// Every content type a stored document can be served with.
    pub const ALL: [FileType; 9] = [
        FileType::Pdf,
        FileType::Docx,
        FileType::Doc,
        FileType::Odt,
        FileType::Rtf,
        FileType::Text,
        FileType::Jpeg,
        FileType::Png,
        FileType::Webp,
    ];

    pub fn from_content_type(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.content_type() == value)
    }
}

/// What the document is for decides which types it may have.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    poem_openapi::Enum,
    sea_orm::DeriveValueType,
    serde::Serialize,
)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// The candidate's CV.
    Cv,
    /// A picture of the candidate.
    Picture,
}

stored_as_text!(DocumentKind {
    Cv => "cv",
    Picture => "picture",
});

impl DocumentKind {
    /// The media types (without parameters) this kind of document may have.
    pub fn content_types(self) -> Vec<&'static str> {
        FileType::ALL
            .into_iter()
            .filter(|t| self.accepts(*t))
            .map(|t| t.content_type().split(';').next().unwrap_or_default())
            .collect()
    }

    fn accepts(self, file_type: FileType) -> bool {
        use FileType::*;
        match self {
            DocumentKind::Cv => matches!(file_type, Pdf | Docx | Doc | Odt | Rtf | Text),
            DocumentKind::Picture => matches!(file_type, Jpeg | Png | Webp),
        }
    }

    fn allowed(self) -> &'static str {
        match self {
            DocumentKind::Cv => "PDF, DOCX, DOC, ODT, RTF or plain text",
            DocumentKind::Picture => "JPEG, PNG or WebP",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Rejected {
    pub kind: DocumentKind,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} must be {}",
            self.kind.as_str(),
            self.kind.allowed()
        )
    }
}

/// How many leading bytes decide everything but the OOXML flavour.
const HEAD_LEN: usize = 8192;
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// Formats recognised by their first bytes (text needs no look at the rest).
const BINARY_MAGIC: [&[u8]; 6] = [
    b"%PDF-",
    b"{\\rtf",
    OLE_MAGIC,
    ZIP_MAGIC,
    b"\xFF\xD8\xFF",
    b"\x89PNG",
];
const ODT_MIMETYPE: &[u8] = b"mimetypeapplication/vnd.oasis.opendocument.text";
// A Word document's parts live under `word/`; the name is stored uncompressed in
// each zip entry's local header, so it can be seen while the bytes stream past.
const WORD_PART: &[u8] = b"word/document.xml";

/// Streaming sniffer: feed every chunk, then `finish`.
pub struct Sniffer {
    kind: DocumentKind,
    head: Vec<u8>,
    // For zip containers: whether a `word/document.xml` entry went past, and the
    // tail of the previous chunk so a name split across chunks is still found.
    saw_word_part: bool,
    carry: Vec<u8>,
    utf8: Utf8Check,
}

impl Sniffer {
    pub fn new(kind: DocumentKind) -> Self {
        Self {
            kind,
            head: Vec::with_capacity(HEAD_LEN),
            saw_word_part: false,
            carry: Vec::new(),
            utf8: Utf8Check::default(),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if self.head.starts_with(ZIP_MAGIC) && !self.saw_word_part {
            let mut window = std::mem::take(&mut self.carry);
            window.extend_from_slice(chunk);
            self.saw_word_part = contains(&window, WORD_PART);
            let keep = window.len().saturating_sub(WORD_PART.len() - 1);
            self.carry = window.split_off(keep);
        }
        // Once the head shows a binary format, the text check has nothing to say.
        if !self.utf8.failed
            && self.head.len() >= 8
            && BINARY_MAGIC.iter().any(|m| self.head.starts_with(m))
        {
            self.utf8.failed = true;
        }
        self.utf8.update(chunk);
    }

    /// The file's type, if the document kind accepts it.
    pub fn finish(self) -> Result<FileType, Rejected> {
        match self.detect() {
            Some(file_type) if self.kind.accepts(file_type) => Ok(file_type),
            _ => Err(Rejected { kind: self.kind }),
        }
    }

    fn detect(&self) -> Option<FileType> {
        let head = self.head.as_slice();
        if head.starts_with(b"%PDF-") {
            return Some(FileType::Pdf);
        }
        if head.starts_with(b"{\\rtf") {
            return Some(FileType::Rtf);
        }
        if head.starts_with(OLE_MAGIC) {
            return Some(FileType::Doc);
        }
        if head.starts_with(b"\xFF\xD8\xFF") {
            return Some(FileType::Jpeg);
        }
        if head.starts_with(b"\x89PNG\r\n\x1A\n") {
            return Some(FileType::Png);
        }
        if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            return Some(FileType::Webp);
        }
        if head.starts_with(ZIP_MAGIC) {
            // ODF puts an uncompressed `mimetype` entry first, at offset 30.
            if head.get(30..30 + ODT_MIMETYPE.len()) == Some(ODT_MIMETYPE) {
                return Some(FileType::Odt);
            }
            return self.saw_word_part.then_some(FileType::Docx);
        }
        (!head.is_empty() && self.utf8.is_text()).then_some(FileType::Text)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Plain text means valid UTF-8 without control characters other than
/// whitespace (executables and other binaries fail this quickly).
#[derive(Default)]
struct Utf8Check {
    failed: bool,
    pending: Vec<u8>,
}

impl Utf8Check {
    fn update(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(chunk);
        let (valid, rest) = match std::str::from_utf8(&bytes) {
            Ok(text) => (text, &[][..]),
            // An incomplete sequence at the end may finish in the next chunk.
            Err(err) if err.error_len().is_none() => {
                let (ok, rest) = bytes.split_at(err.valid_up_to());
                (std::str::from_utf8(ok).expect("checked prefix"), rest)
            }
            Err(_) => {
                self.failed = true;
                return;
            }
        };
        if valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C'))
        {
            self.failed = true;
            return;
        }
        self.pending = rest.to_vec();
    }

    fn is_text(&self) -> bool {
        !self.failed && self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(kind: DocumentKind, bytes: &[u8], chunk: usize) -> Result<FileType, Rejected> {
        let mut sniffer = Sniffer::new(kind);
        for part in bytes.chunks(chunk) {
            sniffer.update(part);
        }
        sniffer.finish()
    }

    fn zip_with_entries(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for name in names {
            out.extend_from_slice(ZIP_MAGIC);
            out.extend_from_slice(&[0u8; 22]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&[7u8; 5000]);
        }
        out
    }

    #[test]
    fn cvs_are_recognised_by_their_bytes() {
        let cases: [(&[u8], FileType); 4] = [
            (b"%PDF-1.7\n...", FileType::Pdf),
            (b"{\\rtf1\\ansi hello}", FileType::Rtf),
            (
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
                FileType::Doc,
            ),
            ("Jörg Müller\nCurriculum vitae\n".as_bytes(), FileType::Text),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff(DocumentKind::Cv, bytes, 3), Ok(expected));
        }
    }

    #[test]
    fn a_docx_is_a_zip_with_a_word_part_even_far_into_the_stream() {
        let docx = zip_with_entries(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        // Chunk sizes that split the part name across chunks.
        for chunk in [1, 7, 4096, 100_000] {
            assert_eq!(sniff(DocumentKind::Cv, &docx, chunk), Ok(FileType::Docx));
        }
        let xlsx = zip_with_entries(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert!(sniff(DocumentKind::Cv, &xlsx, 4096).is_err());
    }

    #[test]
    fn an_odt_declares_its_mimetype_first() {
        let mut odt = zip_with_entries(&["mimetype"]);
        odt.truncate(30 + "mimetype".len());
        odt.extend_from_slice(b"application/vnd.oasis.opendocument.text");
        assert_eq!(sniff(DocumentKind::Cv, &odt, 16), Ok(FileType::Odt));
    }

    #[test]
    fn pictures_are_jpeg_png_or_webp_and_not_cvs() {
        let png = b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR";
        let webp = b"RIFF\x10\0\0\0WEBPVP8 ";
        let jpeg = b"\xFF\xD8\xFF\xE0\0\x10JFIF";
        assert_eq!(sniff(DocumentKind::Picture, png, 4), Ok(FileType::Png));
        assert_eq!(sniff(DocumentKind::Picture, webp, 4), Ok(FileType::Webp));
        assert_eq!(sniff(DocumentKind::Picture, jpeg, 4), Ok(FileType::Jpeg));
        assert!(sniff(DocumentKind::Cv, png, 4).is_err());
        assert!(sniff(DocumentKind::Picture, b"%PDF-1.4", 4).is_err());
    }

    #[test]
    fn executables_and_binaries_are_rejected_whatever_they_are_called() {
        let mut exe = b"MZ\x90\0\x03\0\0\0".to_vec();
        exe.extend_from_slice(&[0u8; 64]);
        assert!(sniff(DocumentKind::Cv, &exe, 5).is_err());
        assert!(sniff(DocumentKind::Cv, b"\x7FELF\x02\x01\x01", 5).is_err());
        assert!(sniff(DocumentKind::Cv, b"", 5).is_err());
        assert!(sniff(DocumentKind::Cv, b"text then \0 a nul", 5).is_err());
    }

    #[test]
    fn a_multibyte_character_split_between_chunks_is_still_text() {
        let text = "é".repeat(100);
        assert_eq!(
            sniff(DocumentKind::Cv, text.as_bytes(), 1),
            Ok(FileType::Text)
        );
        let truncated = &text.as_bytes()[..text.len() - 1];
        assert!(sniff(DocumentKind::Cv, truncated, 3).is_err());
    }

    #[test]
    fn the_rejection_names_the_allowed_types() {
        let err = sniff(DocumentKind::Picture, b"%PDF-", 5).unwrap_err();
        assert_eq!(err.to_string(), "the picture must be JPEG, PNG or WebP");
    }
}
