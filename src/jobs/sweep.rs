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
