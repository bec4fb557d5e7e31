//! Fetches an imported profile picture when the application is submitted:
//! only from the provider's listed hosts, no redirects, within the picture
//! size limit. Its type is then sniffed like an upload's.

use bytes::Bytes;

use crate::{blobs::UploadData, domain::imports::picture_allowed};

/// The picture's bytes, or why it was left out (for the log, without the URL).
pub async fn fetch(
    http: &reqwest::Client,
    url: &str,
    hosts: &[String],
    max_bytes: u64,
) -> Result<UploadData, &'static str> {
    if !picture_allowed(url, hosts) {
        return Err("host not allowed");
    }
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|_| "the picture host did not answer")?;
    if !response.status().is_success() {
        return Err("the picture host refused");
    }
    let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    match super::read_capped(response, max).await {
        Ok(Some(bytes)) => Ok(UploadData::Memory(Bytes::from(bytes))),
        Ok(None) => Err("the picture is too large"),
        Err(_) => Err("reading the picture failed"),
    }
}
