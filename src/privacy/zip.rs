//! A streaming ZIP writer for the data exports: entries are stored as they
//! are (the CVs and pictures are compressed already), each file goes out
//! chunk by chunk with its CRC-32 computed on the way, and only the central
//! directory (names and numbers) is kept until the end. Local headers carry
//! the data-descriptor flag, so nothing needs to be known before a file's
//! bytes have passed. ZIP64 records are written where a size, an offset or
//! the number of entries does not fit the classic fields.

use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Datelike, Timelike, Utc};
use crc::{CRC_32_ISO_HDLC, Crc, Table};
use futures_util::{
    StreamExt,
    future::BoxFuture,
    stream::{self, BoxStream},
};

/// Slice-by-16: the table costs 16 KiB once and keeps the CRC far from
/// being what limits an export.
static CRC32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const END: u32 = 0x0605_4b50;
/// Sizes follow in a data descriptor (bit 3); names are UTF-8 (bit 11).
const FLAGS: u16 = 0x0008 | 0x0800;
const STORED: u16 = 0;
/// 2.0 for data descriptors, 4.5 for ZIP64.
const VERSION: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// Made on Unix, so the external attributes hold a file mode.
const MADE_BY_UNIX: u16 = 3 << 8;
/// A regular file, readable by all (`-rw-r--r--`).
const FILE_MODE: u32 = 0o100_644 << 16;
const ZIP64_EXTRA: u16 = 0x0001;
/// What marks a field whose value is in the ZIP64 extra field or record.
const MARK_32: u32 = u32::MAX;
const MARK_16: u16 = u16::MAX;

/// The bytes of one entry: in memory, or a stream opened only when the
/// archive reaches the entry, so that one file at a time is open and none
/// is read ahead.
pub enum Contents {
    Bytes(Bytes),
    Stream(BoxFuture<'static, io::Result<BoxStream<'static, io::Result<Bytes>>>>),
}

/// One file of the archive. Its size is declared up front: a source that
/// gives more or fewer bytes fails the archive rather than truncating it.
pub struct Entry {
    pub name: String,
    pub modified: DateTime<Utc>,
    pub size: u64,
    pub contents: Contents,
}

impl Entry {
    pub fn bytes(name: String, modified: DateTime<Utc>, bytes: Bytes) -> Self {
        Self {
            name,
            modified,
            size: bytes.len() as u64,
            contents: Contents::Bytes(bytes),
        }
    }
}

/// The archive of these entries, in order, as a stream of chunks. An error
/// from a source ends the stream with that error before the central
/// directory, so what was sent never reads as a complete archive.
pub fn archive(entries: Vec<Entry>) -> BoxStream<'static, io::Result<Bytes>> {
    archive_with(ZipWriter::new(), entries)
}

fn archive_with(writer: ZipWriter, entries: Vec<Entry>) -> BoxStream<'static, io::Result<Bytes>> {
    let state = Streaming {
        writer,
        entries: entries.into_iter(),
        reading: None,
        finished: false,
    };
    stream::unfold(state, Streaming::step).boxed()
}

struct Streaming {
    writer: ZipWriter,
    entries: std::vec::IntoIter<Entry>,
    /// The entry being written.
    reading: Option<BoxStream<'static, io::Result<Bytes>>>,
    finished: bool,
}

impl Streaming {
    /// The next chunk: a header, a piece of a file, a data descriptor or
    /// the central directory.
    async fn step(mut self) -> Option<(io::Result<Bytes>, Self)> {
        if self.finished {
            return None;
        }
        let next = self.next_chunk().await;
        self.finished = next.as_ref().is_none_or(|chunk| chunk.is_err());
        Some((next.unwrap_or_else(|| Ok(self.writer.finish())), self))
    }

    /// `None` once every entry is written.
    async fn next_chunk(&mut self) -> Option<io::Result<Bytes>> {
        if let Some(reading) = &mut self.reading {
            return Some(match reading.next().await {
                Some(Ok(chunk)) => self.writer.data(&chunk).map(|()| chunk),
                Some(Err(err)) => Err(err),
                None => {
                    self.reading = None;
                    self.writer.end()
                }
            });
        }
        let entry = self.entries.next()?;
        let source = match entry.contents {
            Contents::Bytes(bytes) => stream::iter([Ok(bytes)]).boxed(),
            Contents::Stream(open) => match open.await {
                Ok(source) => source,
                Err(err) => return Some(Err(err)),
            },
        };
        self.reading = Some(source);
        Some(Ok(self.writer.begin(
            &entry.name,
            entry.modified,
            entry.size,
        )))
    }
}

/// What the central directory keeps of one entry.
struct Written {
    name: String,
    dos_time: (u16, u16),
    crc: u32,
    size: u64,
    offset: u64,
}

/// The entry whose bytes are passing.
struct Current {
    entry: Written,
    declared: u64,
    zip64: bool,
    digest: crc::Digest<'static, u32, Table<16>>,
}

/// The archive's framing, without I/O: it hands back the bytes to send
/// around each entry's data and checks the data as it passes.
pub struct ZipWriter {
    offset: u64,
    written: Vec<Written>,
    current: Option<Current>,
    /// From this size or offset on, a field is written as ZIP64; lower than
    /// 4 GiB only in tests, so that readers are shown ZIP64 records without
    /// gigabytes of data.
    zip64_from: u64,
}

impl ZipWriter {
    pub fn new() -> Self {
        Self {
            offset: 0,
            written: Vec::new(),
            current: None,
            zip64_from: u64::from(MARK_32),
        }
    }

    /// The local header of an entry of `size` bytes.
    pub fn begin(&mut self, name: &str, modified: DateTime<Utc>, size: u64) -> Bytes {
        assert!(self.current.is_none(), "an entry is still open");
        let zip64 = size >= self.zip64_from;
        let dos_time = dos_time(modified);
        let mut header = BytesMut::with_capacity(30 + name.len() + 20);
        header.put_u32_le(LOCAL_HEADER);
        header.put_u16_le(if zip64 { VERSION_ZIP64 } else { VERSION });
        header.put_u16_le(FLAGS);
        header.put_u16_le(STORED);
        header.put_u16_le(dos_time.0);
        header.put_u16_le(dos_time.1);
        header.put_u32_le(0); // CRC-32: in the data descriptor
        let size_field = if zip64 { MARK_32 } else { 0 };
        header.put_u32_le(size_field);
        header.put_u32_le(size_field);
        header.put_u16_le(name.len() as u16);
        header.put_u16_le(if zip64 { 20 } else { 0 });
        header.put_slice(name.as_bytes());
        if zip64 {
            // Sizes as zero: they follow in the (64-bit) data descriptor.
            header.put_u16_le(ZIP64_EXTRA);
            header.put_u16_le(16);
            header.put_u64_le(0);
            header.put_u64_le(0);
        }
        self.current = Some(Current {
            entry: Written {
                name: name.to_owned(),
                dos_time,
                crc: 0,
                size: 0,
                offset: self.offset,
            },
            declared: size,
            zip64,
            digest: CRC32.digest(),
        });
        self.offset += header.len() as u64;
        header.freeze()
    }

    /// Takes a chunk of the open entry's data (sent as it is).
    pub fn data(&mut self, chunk: &[u8]) -> io::Result<()> {
        let current = self.current.as_mut().expect("an open entry");
        current.entry.size += chunk.len() as u64;
        if current.entry.size > current.declared {
            return Err(size_mismatch(&current.entry.name));
        }
        current.digest.update(chunk);
        self.offset += chunk.len() as u64;
        Ok(())
    }

    /// Closes the open entry: its data descriptor.
    pub fn end(&mut self) -> io::Result<Bytes> {
        let Current {
            mut entry,
            declared,
            zip64,
            digest,
        } = self.current.take().expect("an open entry");
        if entry.size != declared {
            return Err(size_mismatch(&entry.name));
        }
        entry.crc = digest.finalize();
        let mut descriptor = BytesMut::with_capacity(24);
        descriptor.put_u32_le(DATA_DESCRIPTOR);
        descriptor.put_u32_le(entry.crc);
        if zip64 {
            descriptor.put_u64_le(entry.size);
            descriptor.put_u64_le(entry.size);
        } else {
            descriptor.put_u32_le(entry.size as u32);
            descriptor.put_u32_le(entry.size as u32);
        }
        self.offset += descriptor.len() as u64;
        self.written.push(entry);
        Ok(descriptor.freeze())
    }

    /// The central directory and the end records.
    pub fn finish(&mut self) -> Bytes {
        assert!(self.current.is_none(), "an entry is still open");
        let start = self.offset;
        let mut out = BytesMut::new();
        for entry in &self.written {
            self.central_header(&mut out, entry);
        }
        let size = out.len() as u64;
        let count = self.written.len() as u64;
        let zip64 =
            count >= u64::from(MARK_16) || size >= self.zip64_from || start >= self.zip64_from;
        if zip64 {
            let record = start + size;
            out.put_u32_le(ZIP64_END);
            out.put_u64_le(44); // what follows this field
            out.put_u16_le(MADE_BY_UNIX | VERSION_ZIP64);
            out.put_u16_le(VERSION_ZIP64);
            out.put_u32_le(0); // this disk
            out.put_u32_le(0); // the disk the directory starts on
            out.put_u64_le(count);
            out.put_u64_le(count);
            out.put_u64_le(size);
            out.put_u64_le(start);
            out.put_u32_le(ZIP64_LOCATOR);
            out.put_u32_le(0);
            out.put_u64_le(record);
            out.put_u32_le(1); // disks in all
        }
        let count_16 = if zip64 { MARK_16 } else { count as u16 };
        out.put_u32_le(END);
        out.put_u16_le(0);
        out.put_u16_le(0);
        out.put_u16_le(count_16);
        out.put_u16_le(count_16);
        out.put_u32_le(self.field_32(size));
        out.put_u32_le(self.field_32(start));
        out.put_u16_le(0); // no comment
        self.offset += out.len() as u64;
        out.freeze()
    }

    fn central_header(&self, out: &mut BytesMut, entry: &Written) {
        // In the extra field, in this order, only what its classic field cannot hold.
        let wide: Vec<u64> = [entry.size, entry.size, entry.offset]
            .into_iter()
            .filter(|value| *value >= self.zip64_from)
            .collect();
        let version = if wide.is_empty() {
            VERSION
        } else {
            VERSION_ZIP64
        };
        out.put_u32_le(CENTRAL_HEADER);
        out.put_u16_le(MADE_BY_UNIX | version);
        out.put_u16_le(version);
        out.put_u16_le(FLAGS);
        out.put_u16_le(STORED);
        out.put_u16_le(entry.dos_time.0);
        out.put_u16_le(entry.dos_time.1);
        out.put_u32_le(entry.crc);
        out.put_u32_le(self.field_32(entry.size));
        out.put_u32_le(self.field_32(entry.size));
        out.put_u16_le(entry.name.len() as u16);
        out.put_u16_le(if wide.is_empty() {
            0
        } else {
            4 + 8 * wide.len() as u16
        });
        out.put_u16_le(0); // no comment
        out.put_u16_le(0); // disk
        out.put_u16_le(0); // internal attributes
        out.put_u32_le(FILE_MODE);
        out.put_u32_le(self.field_32(entry.offset));
        out.put_slice(entry.name.as_bytes());
        if !wide.is_empty() {
            out.put_u16_le(ZIP64_EXTRA);
            out.put_u16_le(8 * wide.len() as u16);
            for value in wide {
                out.put_u64_le(value);
            }
        }
    }

    /// A size or offset as a classic field, or the mark that it is in ZIP64.
    fn field_32(&self, value: u64) -> u32 {
        if value >= self.zip64_from {
            MARK_32
        } else {
            value as u32
        }
    }
}

impl Default for ZipWriter {
    fn default() -> Self {
        Self::new()
    }
}

fn size_mismatch(name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{name}: the file's bytes differ in length from its record"),
    )
}

/// MS-DOS time and date (2-second steps, from 1980), as ZIP headers keep them.
fn dos_time(at: DateTime<Utc>) -> (u16, u16) {
    if at.year() < 1980 {
        return (0, (1 << 5) | 1);
    }
    let time = (at.hour() << 11) | (at.minute() << 5) | (at.second() / 2);
    let date = ((at.year().min(2107) as u32 - 1980) << 9) | (at.month() << 5) | at.day();
    (time as u16, date as u16)
}

#[cfg(test)]
mod tests {
    use std::{
        io::{Cursor, Read},
        sync::{
            Arc,
            atomic::{AtomicBool, AtomicUsize, Ordering},
        },
    };

    use chrono::TimeZone;
    use futures_util::TryStreamExt;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 14, 5, 58).unwrap()
    }

    /// A streamed entry whose source gives `chunks` one by one.
    fn streamed(name: &str, chunks: Vec<Bytes>) -> Entry {
        let size = chunks.iter().map(|c| c.len() as u64).sum();
        let source = stream::iter(chunks.into_iter().map(Ok)).boxed();
        Entry {
            name: name.to_owned(),
            modified: at(),
            size,
            contents: Contents::Stream(Box::pin(async move { Ok(source) })),
        }
    }

    async fn collect(archive: BoxStream<'static, io::Result<Bytes>>) -> io::Result<Vec<u8>> {
        let chunks: Vec<Bytes> = archive.try_collect().await?;
        Ok(chunks.concat())
    }

    /// Every entry as an independent reader sees it: name, bytes (their
    /// CRC checked by the reader) and stored CRC.
    fn read_back(bytes: Vec<u8>) -> Vec<(String, Vec<u8>, u32)> {
        let mut archive = ::zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid archive");
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                assert_eq!(file.compression(), ::zip::CompressionMethod::Stored);
                let mut data = Vec::new();
                file.read_to_end(&mut data).expect("data matching its CRC");
                assert_eq!(file.size(), data.len() as u64);
                (file.name().unwrap().into_owned(), data, file.crc32())
            })
            .collect()
    }

    #[tokio::test]
    async fn several_entries_read_back_with_their_names_bytes_and_crcs() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let chunks = big.chunks(8192).map(Bytes::copy_from_slice).collect();
        let entries = vec![
            Entry::bytes("check.txt".into(), at(), Bytes::from_static(b"123456789")),
            Entry::bytes("empty".into(), at(), Bytes::new()),
            streamed("files/große Datei – ünïcødé.bin", chunks),
            streamed("files/empty-stream", vec![]),
            Entry::bytes("日本語/名前.txt".into(), at(), Bytes::from_static(b"x")),
        ];
        let read = read_back(collect(archive(entries)).await.unwrap());
        let names: Vec<&str> = read.iter().map(|(name, ..)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "check.txt",
                "empty",
                "files/große Datei – ünïcødé.bin",
                "files/empty-stream",
                "日本語/名前.txt"
            ]
        );
        // The standard check value of CRC-32 (ISO HDLC).
        assert_eq!(read[0].2, 0xCBF4_3926);
        assert_eq!((read[1].1.len(), read[1].2), (0, 0));
        assert_eq!(read[2].1, big);
        assert_eq!(read[3].1, b"");
        assert_eq!(read[4].1, b"x");
    }

    #[tokio::test]
    async fn entries_have_their_time_and_a_readable_file_mode() {
        let bytes = collect(archive(vec![Entry::bytes(
            "a".into(),
            at(),
            Bytes::from_static(b"a"),
        )]))
        .await
        .unwrap();
        let mut archive = ::zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let file = archive.by_index(0).unwrap();
        let modified = file.last_modified().unwrap();
        assert_eq!(
            (modified.year(), modified.month(), modified.day()),
            (2026, 12, 3)
        );
        assert_eq!(
            (modified.hour(), modified.minute(), modified.second()),
            (14, 5, 58)
        );
        assert_eq!(file.unix_mode(), Some(0o100_644));
    }

    #[tokio::test]
    async fn zip64_records_read_back_where_fields_do_not_fit() {
        // Every size and offset from 0 on counts as too wide: the same records
        // a 4 GiB file would get, without writing 4 GiB.
        let writer = ZipWriter {
            zip64_from: 0,
            ..ZipWriter::new()
        };
        let entries = vec![
            Entry::bytes("first".into(), at(), Bytes::from_static(b"123456789")),
            streamed(
                "second",
                vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")],
            ),
            Entry::bytes("empty".into(), at(), Bytes::new()),
        ];
        let bytes = collect(archive_with(writer, entries)).await.unwrap();
        assert!(
            bytes
                .windows(4)
                .any(|w| w == ZIP64_END.to_le_bytes().as_slice())
        );
        let read = read_back(bytes);
        assert_eq!(read[0].1, b"123456789");
        assert_eq!(read[0].2, 0xCBF4_3926);
        assert_eq!(read[1].1, b"abc");
        assert_eq!(read[2].1, b"");
    }

    #[tokio::test]
    async fn more_than_65535_entries_get_a_zip64_end_record() {
        let entries = (0..70_000)
            .map(|i| Entry::bytes(format!("{i}"), at(), Bytes::new()))
            .collect();
        let bytes = collect(archive(entries)).await.unwrap();
        let archive = ::zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 70_000);
    }

    #[tokio::test]
    async fn a_source_that_fails_or_falls_short_ends_the_stream_with_an_error() {
        let failing = stream::iter([
            Ok(Bytes::from_static(b"part")),
            Err(io::Error::other("gone")),
        ])
        .boxed();
        let short = stream::iter([Ok(Bytes::from_static(b"abc"))]).boxed();
        let long = stream::iter([Ok(Bytes::from_static(b"abcdef"))]).boxed();
        for source in [failing, short, long] {
            let entries = vec![
                Entry::bytes("before".into(), at(), Bytes::from_static(b"ok")),
                Entry {
                    name: "file".into(),
                    modified: at(),
                    size: 5,
                    contents: Contents::Stream(Box::pin(async move { Ok(source) })),
                },
            ];
            let mut archive = archive(entries);
            let mut sent = Vec::new();
            let mut failed = false;
            while let Some(chunk) = archive.next().await {
                match chunk {
                    Ok(chunk) => sent.extend_from_slice(&chunk),
                    Err(_) => failed = true,
                }
                if failed {
                    assert!(archive.next().await.is_none(), "nothing after the error");
                    break;
                }
            }
            assert!(failed);
            assert!(
                ::zip::ZipArchive::new(Cursor::new(sent)).is_err(),
                "what was sent does not read as an archive"
            );
        }
    }

    #[tokio::test]
    async fn a_source_that_cannot_be_opened_ends_the_stream_with_an_error() {
        let entries = vec![Entry {
            name: "missing".into(),
            modified: at(),
            size: 1,
            contents: Contents::Stream(Box::pin(async {
                Err(io::Error::new(io::ErrorKind::NotFound, "purged"))
            })),
        }];
        let result = collect(archive(entries)).await;
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn a_file_is_opened_when_reached_and_read_only_as_fast_as_it_is_sent() {
        let pulled = Arc::new(AtomicUsize::new(0));
        let opened = Arc::new(AtomicBool::new(false));
        let source = {
            let pulled = Arc::clone(&pulled);
            stream::iter((0..100).map(|_| Ok(Bytes::from(vec![7u8; 1024]))))
                .inspect(move |_| {
                    pulled.fetch_add(1, Ordering::SeqCst);
                })
                .boxed()
        };
        let open = {
            let opened = Arc::clone(&opened);
            Box::pin(async move {
                opened.store(true, Ordering::SeqCst);
                Ok(source)
            })
        };
        let entries = vec![
            Entry::bytes("first".into(), at(), Bytes::from_static(b"first")),
            Entry {
                name: "large".into(),
                modified: at(),
                size: 100 * 1024,
                contents: Contents::Stream(open),
            },
        ];
        let mut archive = archive(entries);
        for _ in 0..3 {
            // The first entry's header, data and descriptor.
            archive.next().await.unwrap().unwrap();
        }
        assert!(
            !opened.load(Ordering::SeqCst),
            "not opened before it is reached"
        );
        archive.next().await.unwrap().unwrap(); // its header
        for sent in 1..=100 {
            let chunk = archive.next().await.unwrap().unwrap();
            assert_eq!(chunk.len(), 1024);
            assert_eq!(pulled.load(Ordering::SeqCst), sent, "no read-ahead");
        }
    }
}
