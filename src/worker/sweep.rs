//! Removes objects that no document row refers to: leftovers of uploads whose
//! request failed after the file was written. Young objects are left alone, as
//! their row may be about to commit.

use std::{collections::HashSet, time::Duration};

use futures_util::TryStreamExt;
use sea_orm::{ConnectionTrait, DbErr};

use crate::{blobs::Blobs, store};

const BATCH: usize = 500;

/// Deletes unreferenced objects older than `grace`; returns how many went.
pub async fn sweep_orphans(
    db: &impl ConnectionTrait,
    blobs: &Blobs,
    grace: Duration,
) -> anyhow::Result<usize> {
    // Against the store's own modification times: the wall clock.
    let cutoff = chrono::Utc::now() - grace;
    let mut removed = 0;
    let mut candidates = Vec::with_capacity(BATCH);
    let mut listing = blobs.list_documents();
    while let Some(object) = listing.try_next().await? {
        if object.last_modified <= cutoff {
            candidates.push(object.key);
        }
        if candidates.len() == BATCH {
            removed += remove_unreferenced(db, blobs, std::mem::take(&mut candidates)).await?;
        }
    }
    removed += remove_unreferenced(db, blobs, candidates).await?;
    Ok(removed)
}

async fn remove_unreferenced(
    db: &impl ConnectionTrait,
    blobs: &Blobs,
    keys: Vec<String>,
) -> anyhow::Result<usize> {
    if keys.is_empty() {
        return Ok(0);
    }
    let referenced: HashSet<String> = store::applications::referenced_object_keys(db, &keys)
        .await
        .map_err(|e: DbErr| anyhow::anyhow!(e))?
        .into_iter()
        .collect();
    let orphans: Vec<String> = keys
        .into_iter()
        .filter(|key| !referenced.contains(key))
        .collect();
    blobs.delete_all(&orphans).await?;
    Ok(orphans.len())
}

/// Deletes files in the mail folder that belong to no message any more
/// (their application was purged while a crash kept the purge from deleting
/// them) and temporary files a crash left mid-write, once older than
/// `grace`; returns how many went.
pub async fn sweep_mail_files(
    db: &impl ConnectionTrait,
    dir: &str,
    grace: Duration,
) -> anyhow::Result<usize> {
    let dir = std::path::PathBuf::from(dir);
    let listed = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || list_old_files(&dir, grace)).await??
    };
    let mut orphans = Vec::new();
    let mut mails = Vec::new();
    for (name, path) in listed {
        match name
            .strip_suffix(".eml")
            .and_then(|id| id.parse::<uuid::Uuid>().ok())
        {
            Some(id) => mails.push((id, path)),
            // Written by the transport's temporary files only.
            None if name.starts_with(".tmp") => orphans.push(path),
            None => {}
        }
    }
    for chunk in mails.chunks(BATCH) {
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|(id, _)| *id).collect();
        let known: HashSet<uuid::Uuid> = store::messages::existing_ids(db, &ids)
            .await?
            .into_iter()
            .collect();
        orphans.extend(
            chunk
                .iter()
                .filter(|(id, _)| !known.contains(id))
                .map(|(_, path)| path.clone()),
        );
    }
    let removed = orphans.len();
    if removed > 0 {
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            for path in orphans {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => return Err(err),
                }
            }
            std::fs::File::open(&dir)?.sync_all()
        })
        .await??;
    }
    Ok(removed)
}

/// The files of `dir` (none when it does not exist) last changed before
/// `grace` ago, by name.
fn list_old_files(
    dir: &std::path::Path,
    grace: Duration,
) -> std::io::Result<Vec<(String, std::path::PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let cutoff = std::time::SystemTime::now() - grace;
    let mut old = Vec::new();
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_file() && meta.modified()? <= cutoff {
            old.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
    }
    Ok(old)
}
