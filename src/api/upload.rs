//! `FileUpload`: a multipart file field, kept in memory while small and
//! spilled to an anonymous temporary file past that, written in large batches
//! off the async threads. (poem-openapi's `Upload` spools every file through
//! many small blocking writes.)

use std::io::Write;

use poem::web::Field;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromMultipartField, ParseResult},
};
use tokio::io::AsyncReadExt;

use super::impl_field_type;
use crate::blobs::UploadData;

/// Files up to this size stay in memory (most CVs); larger ones go to disk.
const SPILL_AT: usize = 256 * 1024;
/// Once spilling, bytes go to disk in batches of this size.
const SPILL_BATCH: usize = 64 * 1024;

pub struct FileUpload(pub UploadData);

impl_field_type!(
    FileUpload,
    "string_binary",
    MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")))
);

impl ParseFromMultipartField for FileUpload {
    async fn parse_from_multipart(field: Option<Field>) -> ParseResult<Self> {
        let field = field.ok_or_else(ParseError::expected_input)?;
        receive(field)
            .await
            .map(FileUpload)
            .map_err(|err| ParseError::custom(format!("reading the file: {err}")))
    }
}

async fn receive(field: Field) -> std::io::Result<UploadData> {
    let mut reader = Box::pin(field.into_async_read());
    // Reads go straight into the buffer's spare room; it grows by doubling up
    // to SPILL_AT, and once spilling, is sent to disk each time it fills.
    let mut buffer = Vec::with_capacity(SPILL_BATCH);
    let mut spill: Option<(std::fs::File, u64)> = None;
    loop {
        if buffer.len() == buffer.capacity() {
            if spill.is_some() || buffer.len() >= SPILL_AT {
                let batch = std::mem::replace(&mut buffer, Vec::with_capacity(SPILL_BATCH));
                spill = Some(write_batch(spill, batch).await?);
            } else {
                buffer.reserve_exact(buffer.len());
            }
        }
        if reader.read_buf(&mut buffer).await? == 0 {
            break;
        }
    }
    match spill {
        None => Ok(UploadData::Memory(buffer.into())),
        Some(spill) => {
            let (file, size) = write_batch(Some(spill), buffer).await?;
            Ok(UploadData::File { file, size })
        }
    }
}

/// Appends a batch to the spill file, creating it on first use.
async fn write_batch(
    spill: Option<(std::fs::File, u64)>,
    batch: Vec<u8>,
) -> std::io::Result<(std::fs::File, u64)> {
    tokio::task::spawn_blocking(move || {
        let (mut file, size) = match spill {
            Some(spill) => spill,
            None => (tempfile::tempfile()?, 0),
        };
        file.write_all(&batch)?;
        Ok((file, size + batch.len() as u64))
    })
    .await
    .map_err(std::io::Error::other)?
}
