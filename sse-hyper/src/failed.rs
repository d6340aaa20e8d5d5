//! [`FailedResponse`]: the report of a response that did not open an event
//! stream.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri, header};

/// A response that did not open an event stream: its status, headers and
/// the first bytes of its body (up to 4 KiB), so that you can see why.
#[derive(Debug)]
pub struct FailedResponse {
    url: Uri,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl FailedResponse {
    pub(crate) fn new(url: Uri, response: http::response::Parts, body: Bytes) -> Self {
        Self {
            url,
            status: response.status,
            headers: response.headers,
            body,
        }
    }

    /// The URL that answered (after any redirects).
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first bytes of the body: up to 4 KiB, or what arrived within a
    /// short time.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl fmt::Display for FailedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}", self.url, self.status)?;
        let content_type = self.headers.get(header::CONTENT_TYPE);
        if self.status == StatusCode::OK {
            match content_type.map(|value| String::from_utf8_lossy(value.as_bytes())) {
                Some(content_type) => write!(f, " with `{content_type}`")?,
                None => f.write_str(" without a content type")?,
            }
            f.write_str(", not text/event-stream")?;
        } else if self.status.is_redirection() {
            let location = self.headers.get(header::LOCATION);
            if location.is_none_or(|location| location.as_bytes().trim_ascii().is_empty()) {
                f.write_str(", a redirect without a Location header to follow")?;
            } else {
                f.write_str(", a redirect that could not be followed")?;
            }
        }
        let body = String::from_utf8_lossy(&self.body);
        let line = body.lines().map(str::trim).find(|line| !line.is_empty());
        if let Some(line) = line {
            const PREVIEW: usize = 200;
            match line.char_indices().nth(PREVIEW) {
                Some((end, _)) => write!(f, ": {}...", line.get(..end).unwrap_or(line))?,
                None => write!(f, ": {line}")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for FailedResponse {}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn failed_responses_say_why() {
        let response = |status: u16, content_type: Option<&'static str>| {
            let mut builder = http::Response::builder().status(status);
            if let Some(content_type) = content_type {
                builder = builder.header(header::CONTENT_TYPE, content_type);
            }
            builder.body(()).unwrap().into_parts().0
        };
        let url = uri("http://example.com/events");
        let body = Bytes::from_static(b"\n  {\"error\": \"quota\"}\nmore");
        let failed = FailedResponse::new(url.clone(), response(429, None), body);
        assert_eq!(
            failed.to_string(),
            "http://example.com/events answered 429 Too Many Requests: {\"error\": \"quota\"}"
        );
        let failed =
            FailedResponse::new(url.clone(), response(200, Some("text/html")), Bytes::new());
        assert_eq!(
            failed.to_string(),
            "http://example.com/events answered 200 OK with `text/html`, not text/event-stream"
        );
        let failed = FailedResponse::new(url.clone(), response(302, None), Bytes::new());
        assert_eq!(
            failed.to_string(),
            "http://example.com/events answered 302 Found, a redirect without a Location header to follow"
        );
        let long = Bytes::from("é".repeat(300));
        let failed = FailedResponse::new(url, response(500, None), long);
        assert!(
            failed
                .to_string()
                .ends_with(&format!(": {}...", "é".repeat(200)))
        );
    }
}
