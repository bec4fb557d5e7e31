//! Document files in the object store, behind domain verbs. Object keys are
//! random and never carry anything the client sent; paths are built here only.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::{
    GetResultPayload, ObjectStore, ObjectStoreExt, RetryConfig,
    aws::{AmazonS3Builder, AmazonS3ConfigKey},
    buffered::BufWriter,
    local::LocalFileSystem,
    memory::InMemory,
    path::Path,
};
use sha2::{Digest, Sha256};
use std::os::unix::fs::FileExt;

use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::{
    config::StorageSettings,
    domain::sniff::{DocumentKind, FileType, Rejected, Sniffer},
};

const DOCUMENTS: &str = "documents";
const READ_CHUNK: usize = 64 * 1024;
/// How much of a local document one read gives a download or an export.
const FILE_CHUNK: usize = 256 * 1024;

#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// The folder of a local store, which must exist (a store that recreated
    /// a vanished folder would hide an unmounted volume).
    folder: Option<std::path::PathBuf>,
    // Bytes buffered per upload before they go out; small for a local folder so
    // many concurrent uploads stay light, 5 MiB (S3's smallest part) elsewhere.
    write_chunk: usize,
}

impl StorageSettings {
    pub fn build(&self) -> anyhow::Result<Blobs> {
        if let Some(folder) = self.url.strip_prefix("file://") {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating the object folder {folder}"))?;
            // fsync: an acknowledged upload is on disk, directory entry included.
            let store = LocalFileSystem::new_with_prefix(folder)
                .context("opening the object folder")?
                .with_fsync(true)
                .with_automatic_cleanup(true);
            let mut blobs = Blobs::new(Arc::new(store), Path::default(), 64 * 1024);
            blobs.folder = Some(std::path::PathBuf::from(folder));
            return Ok(blobs);
        }
        if self.url == "memory://" {
            return Ok(Blobs::new(
                Arc::new(InMemory::new()),
                Path::default(),
                256 * 1024,
            ));
        }
        let url = url::Url::parse(&self.url).context("storage.url is not a URL")?;
        let mut options: Vec<(String, String)> = self
            .options
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_owned()))
            .collect();
        // A store that does not answer must not hang requests.
        for (key, default) in [("connect_timeout", "5s"), ("timeout", "60s")] {
            if !self.options.contains_key(key) {
                options.push((key.to_owned(), default.to_owned()));
            }
        }
        if url.scheme() == "s3" {
            let mut builder = AmazonS3Builder::new()
                .with_url(self.url.as_str())
                .with_retry(quick_retries());
            for (key, value) in options {
                let key: AmazonS3ConfigKey = key
                    .parse()
                    .with_context(|| format!("unknown storage option {key}"))?;
                builder = builder.with_config(key, value);
            }
            let store = builder.build().context("configuring S3")?;
            let prefix = Path::parse(url.path()).context("storage.url has an invalid prefix")?;
            return Ok(Blobs::new(Arc::new(store), prefix, 5 * 1024 * 1024));
        }
        let (store, prefix) =
            object_store::parse_url_opts(&url, options).context("configuring the object store")?;
        Ok(Blobs::new(Arc::from(store), prefix, 5 * 1024 * 1024))
    }
}

/// A few retries within seconds: a request waits for a flaky store, but one that
/// is down answers 503 soon instead of after the default three minutes.
fn quick_retries() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(15),
        ..RetryConfig::default()
    }
}

/// An uploaded file as received: in memory when small, else in an anonymous
/// temporary file (deleted when dropped).
pub enum UploadData {
    Memory(Bytes),
    File { file: std::fs::File, size: u64 },
}

impl UploadData {
    pub fn size(&self) -> u64 {
        match self {
            UploadData::Memory(bytes) => bytes.len() as u64,
            UploadData::File { size, .. } => *size,
        }
    }
}

/// What reading an upload found: its type (from its bytes), size and digest.
#[derive(Clone, Debug)]
pub struct Inspected {
    pub file_type: FileType,
    pub size: u64,
    pub sha256: String,
}

/// Reads an upload once, to decide whether it may be stored at all.
pub async fn inspect(
    kind: DocumentKind,
    data: &UploadData,
) -> std::io::Result<Result<Inspected, Rejected>> {
    match data {
        UploadData::Memory(bytes) => Ok(inspect_chunks(kind, bytes.chunks(READ_CHUNK))),
        UploadData::File { file, size } => {
            let file = file.try_clone()?;
            let size = *size;
            tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; READ_CHUNK];
                let mut offset = 0;
                let mut sniffer = Sniffer::new(kind);
                let mut hasher = Sha256::new();
                while offset < size {
                    let n = file.read_at(&mut buf, offset)?;
                    if n == 0 {
                        break;
                    }
                    sniffer.update(&buf[..n]);
                    hasher.update(&buf[..n]);
                    offset += n as u64;
                }
                Ok(finish(sniffer, hasher, offset))
            })
            .await
            .map_err(std::io::Error::other)?
        }
    }
}

fn inspect_chunks<'a>(
    kind: DocumentKind,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> Result<Inspected, Rejected> {
    let mut sniffer = Sniffer::new(kind);
    let mut hasher = Sha256::new();
    let mut size = 0;
    for chunk in chunks {
        sniffer.update(chunk);
        hasher.update(chunk);
        size += chunk.len() as u64;
    }
    finish(sniffer, hasher, size)
}

fn finish(sniffer: Sniffer, hasher: Sha256, size: u64) -> Result<Inspected, Rejected> {
    sniffer.finish().map(|file_type| Inspected {
        file_type,
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

async fn read_chunk(file: std::fs::File, offset: u64, len: usize) -> std::io::Result<Bytes> {
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            let n = file.read_at(&mut buf[filled..], offset + filled as u64)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        Ok(Bytes::from(buf))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A local file's first `size` bytes in chunks of [`FILE_CHUNK`]: each read
/// is a hop to a blocking thread, and object_store's own 8 KiB chunks make
/// that hop cost more than the reading. A file that turns out shorter is
/// an error, not a short document.
fn file_chunks(file: std::fs::File, size: u64) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures_util::stream::try_unfold(0, move |offset| {
        let file = file.try_clone();
        async move {
            if offset >= size {
                return Ok(None);
            }
            let len = (size - offset).min(FILE_CHUNK as u64) as usize;
            let chunk = read_chunk(file?, offset, len).await?;
            if chunk.is_empty() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let next = offset + chunk.len() as u64;
            Ok(Some((chunk, next)))
        }
    })
    .boxed()
}

/// One stored object as the sweep sees it.
pub struct StoredObject {
    pub key: String,
    pub last_modified: DateTime<Utc>,
}

impl Blobs {
    fn new(store: Arc<dyn ObjectStore>, prefix: Path, write_chunk: usize) -> Self {
        Self {
            store,
            prefix,
            folder: None,
            write_chunk,
        }
    }

    /// A fresh random key for a document, fanned out over 256 folders.
    pub fn new_document_key() -> String {
        let id = Uuid::new_v4().simple().to_string();
        format!("{DOCUMENTS}/{}/{id}", &id[..2])
    }

    fn path(&self, key: &str) -> Path {
        key.split('/')
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    /// Writes a document into the store under a new random key and returns
    /// the key once the object is durable. A large file streams from its
    /// spool file in chunks; it is never whole in memory.
    pub async fn store_document(&self, data: &UploadData) -> anyhow::Result<String> {
        let key = Self::new_document_key();
        self.put_document(&key, data).await?;
        Ok(key)
    }

    /// Writes a document under `key`, durably.
    pub async fn put_document(&self, key: &str, data: &UploadData) -> anyhow::Result<()> {
        let path = self.path(key);
        match data {
            UploadData::Memory(bytes) => {
                self.store
                    .put(&path, bytes.clone().into())
                    .await
                    .context("writing a document to the object store")?;
            }
            UploadData::File { file, size } => self.stream_file(path, file, *size).await?,
        }
        Ok(())
    }

    async fn stream_file(&self, path: Path, file: &std::fs::File, size: u64) -> anyhow::Result<()> {
        let mut writer = BufWriter::with_capacity(self.store.clone(), path, self.write_chunk)
            .with_max_concurrency(2);
        let mut offset = 0;
        while offset < size {
            let chunk = read_chunk(file.try_clone()?, offset, self.write_chunk).await;
            let put = match chunk {
                Ok(chunk) if chunk.is_empty() => break,
                Ok(chunk) => {
                    offset += chunk.len() as u64;
                    writer.put(chunk).await.map_err(anyhow::Error::from)
                }
                Err(err) => Err(err.into()),
            };
            if let Err(err) = put {
                let _ = writer.abort().await;
                return Err(err).context("writing a document to the object store");
            }
        }
        writer
            .shutdown()
            .await
            .context("completing a document in the object store")
    }

    /// The document's bytes as a stream, and its size.
    pub async fn open(
        &self,
        key: &str,
    ) -> anyhow::Result<(u64, BoxStream<'static, std::io::Result<Bytes>>)> {
        let result = self
            .store
            .get(&self.path(key))
            .await
            .context("opening a document in the object store")?;
        let size = result.meta.size;
        let stream = match result.payload {
            GetResultPayload::File(file, _) => file_chunks(file, size),
            GetResultPayload::Stream(stream) => stream.map_err(std::io::Error::other).boxed(),
        };
        Ok((size, stream))
    }

    /// Deletes objects, in bulk where the store can; missing ones are fine.
    pub async fn delete_all(&self, keys: &[String]) -> anyhow::Result<()> {
        let paths: Vec<object_store::Result<Path>> =
            keys.iter().map(|k| Ok(self.path(k))).collect();
        let paths = futures_util::stream::iter(paths).boxed();
        let mut results = self.store.delete_stream(paths);
        while let Some(result) = results.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(err).context("deleting documents from the object store"),
            }
        }
        Ok(())
    }

    /// Every document object, for the orphan sweep.
    pub fn list_documents(&self) -> BoxStream<'_, anyhow::Result<StoredObject>> {
        let root = self.prefix.clone().join(DOCUMENTS);
        let skip = self.prefix.parts().count();
        self.store
            .list(Some(&root))
            .map(move |meta| {
                let meta = meta.context("listing documents in the object store")?;
                let key = meta
                    .location
                    .parts()
                    .skip(skip)
                    .map(|p| p.as_ref().to_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                Ok(StoredObject {
                    key,
                    last_modified: meta.last_modified,
                })
            })
            .boxed()
    }

    /// Readiness: the store takes a small write and its deletion (outside
    /// `documents/`, so the sweep never sees it); a local folder must exist.
    pub async fn check(&self) -> anyhow::Result<()> {
        if let Some(folder) = &self.folder
            && !folder.is_dir()
        {
            anyhow::bail!("the object folder is missing");
        }
        let probe = self.path(&format!("probes/{}", Uuid::new_v4().simple()));
        let round_trip = async {
            self.store
                .put(&probe, Bytes::from_static(b"ready").into())
                .await?;
            self.store.delete(&probe).await
        };
        match tokio::time::timeout(Duration::from_secs(5), round_trip).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(err).context("object store check"),
            Err(_) => anyhow::bail!("object store check timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Blobs {
        Blobs::new(Arc::new(InMemory::new()), Path::default(), 1024)
    }

    #[tokio::test]
    async fn a_document_round_trips_under_a_random_key() {
        let blobs = memory();
        let bytes = vec![42u8; 5000];
        let data = UploadData::Memory(bytes.clone().into());
        let key = blobs.store_document(&data).await.unwrap();
        assert!(key.starts_with("documents/"));
        assert_ne!(key, blobs.store_document(&data).await.unwrap());
        let (size, stream) = blobs.open(&key).await.unwrap();
        let read: Vec<Bytes> = stream.try_collect().await.unwrap();
        assert_eq!(size, 5000);
        assert_eq!(read.concat(), bytes);
    }

    #[tokio::test]
    async fn deleting_removes_objects_and_ignores_missing_ones() {
        let blobs = memory();
        let data = UploadData::Memory(Bytes::from_static(b"%PDF-1.4"));
        let key = blobs.store_document(&data).await.unwrap();
        blobs
            .delete_all(&[key.clone(), "documents/00/missing".into()])
            .await
            .unwrap();
        assert!(blobs.open(&key).await.is_err());
        let listed: Vec<_> = blobs.list_documents().try_collect().await.unwrap();
        assert!(listed.is_empty());
    }

    #[tokio::test]
    async fn inspect_reports_type_size_and_digest() {
        let pdf = b"%PDF-1.4 tiny";
        let in_memory = UploadData::Memory(Bytes::from_static(pdf));
        let found = inspect(DocumentKind::Cv, &in_memory)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.file_type, FileType::Pdf);
        assert_eq!(found.size, pdf.len() as u64);
        assert_eq!(found.sha256, hex::encode(Sha256::digest(pdf)));
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, pdf).unwrap();
        let spooled = UploadData::File {
            file,
            size: pdf.len() as u64,
        };
        let from_disk = inspect(DocumentKind::Cv, &spooled).await.unwrap().unwrap();
        assert_eq!(from_disk.sha256, found.sha256);
        let exe = UploadData::Memory(Bytes::from_static(b"MZ\x90\0\x03\0\0\0\x04\0"));
        assert!(inspect(DocumentKind::Cv, &exe).await.unwrap().is_err());
    }

    #[tokio::test]
    async fn a_spooled_file_streams_into_the_store_in_chunks() {
        let blobs = memory();
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &bytes).unwrap();
        let data = UploadData::File {
            file,
            size: bytes.len() as u64,
        };
        let key = blobs.store_document(&data).await.unwrap();
        let (size, stream) = blobs.open(&key).await.unwrap();
        let read: Vec<Bytes> = stream.try_collect().await.unwrap();
        assert_eq!(size, 10_000);
        assert_eq!(read.concat(), bytes);
    }
}
