//! Request bodies: each route takes at most its limit (a declared
//! Content-Length above it is refused before anything is read, a chunked
//! body is cut off where it passes it: 413), and a body that makes no
//! progress for `idle` ends the request (408, connection closed), so a
//! stalled upload gives back its spool file and its connection.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures_util::Stream;
use poem::{Body, Endpoint, IntoResponse, Request, Response, http::StatusCode, http::header};
use tokio::time::{Instant, Sleep};

use super::Audience;

/// The largest body each kind of route takes.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// JSON bodies, and any other route's.
    pub json: u64,
    /// The forms of candidate pages.
    pub form: u64,
    /// The intake's multipart form: both files and room for the rest.
    pub intake: u64,
    /// Indeed Apply's JSON with the CV in base64.
    pub indeed_apply: u64,
    /// How long a body may make no progress.
    pub idle: Duration,
}

impl BodyLimits {
    fn for_path(&self, path: &str) -> u64 {
        match path {
            "/v1/applications" => self.intake,
            "/v1/integrations/indeed-apply" => self.indeed_apply,
            _ if Audience::of(path) == Audience::Candidate => self.form,
            _ => self.json,
        }
    }
}

/// Why a body was cut off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    TooLarge,
    Stalled,
}

/// Applies the limits to a request's body.
pub async fn limit_body<E: Endpoint>(
    next: E,
    mut req: Request,
    limits: BodyLimits,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let max = limits.for_path(&path);
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        return Ok(refused(&path, Cut::TooLarge, max));
    }
    let cut = Arc::new(Mutex::new(None));
    let body = req.take_body().into_bytes_stream();
    req.set_body(Body::from_bytes_stream(Guarded {
        inner: Box::pin(body),
        read: 0,
        max,
        idle: limits.idle,
        deadline: None,
        cut: Arc::clone(&cut),
    }));
    let response = next.call(req).await.map(IntoResponse::into_response);
    let verdict = *cut.lock().expect("body verdict lock");
    match verdict {
        Some(why) => Ok(refused(&path, why, max)),
        None => response,
    }
}

fn refused(path: &str, why: Cut, max: u64) -> Response {
    let (status, code, message) = match why {
        Cut::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request is larger than {max} bytes"),
        ),
        Cut::Stalled => (
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request's body stopped arriving".to_owned(),
        ),
    };
    let mut response = match Audience::of(path) {
        Audience::Candidate => crate::pages::error_page(status),
        _ => crate::error::json_response(status, code, &message),
    };
    // The rest of the body is not read: the connection cannot be reused.
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// A body that counts what arrives and watches for stalls.
struct Guarded {
    inner: ByteStream,
    read: u64,
    max: u64,
    idle: Duration,
    /// Armed while the reader waits for data.
    deadline: Option<Pin<Box<Sleep>>>,
    cut: Arc<Mutex<Option<Cut>>>,
}

impl Guarded {
    fn fail(&mut self, why: Cut) -> Poll<Option<std::io::Result<Bytes>>> {
        *self.cut.lock().expect("body verdict lock") = Some(why);
        let kind = match why {
            Cut::TooLarge => std::io::ErrorKind::InvalidData,
            Cut::Stalled => std::io::ErrorKind::TimedOut,
        };
        Poll::Ready(Some(Err(std::io::Error::new(kind, "request body cut off"))))
    }
}

impl Stream for Guarded {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.deadline = None;
                this.read += chunk.len() as u64;
                if this.read > this.max {
                    return this.fail(Cut::TooLarge);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => {
                let idle = this.idle;
                let deadline = this.deadline.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(Instant::now() + idle))
                });
                if deadline.as_mut().poll(cx).is_ready() {
                    return this.fail(Cut::Stalled);
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{StreamExt, stream};

    use super::*;

    fn guarded(chunks: Vec<&'static [u8]>, max: u64) -> (Guarded, Arc<Mutex<Option<Cut>>>) {
        let cut = Arc::new(Mutex::new(None));
        let inner = stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c))));
        (
            Guarded {
                inner: Box::pin(inner),
                read: 0,
                max,
                idle: Duration::from_secs(30),
                deadline: None,
                cut: Arc::clone(&cut),
            },
            cut,
        )
    }

    #[tokio::test]
    async fn a_body_within_the_limit_passes_and_one_past_it_is_cut_off() {
        let (body, cut) = guarded(vec![b"abc", b"def"], 6);
        let read: Vec<_> = body.collect().await;
        assert!(read.iter().all(Result::is_ok));
        assert_eq!(*cut.lock().unwrap(), None);
        let (body, cut) = guarded(vec![b"abc", b"defg"], 6);
        let read: Vec<_> = body.collect().await;
        assert!(read[1].is_err());
        assert_eq!(*cut.lock().unwrap(), Some(Cut::TooLarge));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_arriving_is_cut_off_after_the_idle_time() {
        let cut = Arc::new(Mutex::new(None));
        let inner = stream::iter([Ok(Bytes::from_static(b"abc"))]).chain(stream::pending());
        let mut body = Guarded {
            inner: Box::pin(inner),
            read: 0,
            max: 100,
            idle: Duration::from_secs(30),
            deadline: None,
            cut: Arc::clone(&cut),
        };
        assert!(body.next().await.unwrap().is_ok());
        let started = Instant::now();
        let stalled = body.next().await.unwrap();
        assert_eq!(stalled.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        assert_eq!(*cut.lock().unwrap(), Some(Cut::Stalled));
    }
}
