//! HTTP plumbing for `EventSource`: what to connect to, the request to send,
//! where a redirect leads, and the report of a failed response. No I/O and
//! no protocol decisions (those are `sse_proto::Client`'s).
//!
//! This file is the same in `sse-tokio` and `sse-smol`.

use std::fmt;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Scheme};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::Full;
use sse_proto::ResponseHead;

use crate::Error;

/// How many bytes of a failed response's body are kept for the error.
pub(crate) const BODY_PREFIX_LEN: usize = 4 * 1024;

/// Where a request goes: a parsed `http` or `https` URL.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    uri: Uri,
    tls: bool,
    /// The host to connect to and to name in TLS: without IPv6 brackets.
    host: String,
    port: u16,
    /// The `Host` header: the host, and the port unless it is the default.
    host_header: HeaderValue,
    path: PathAndQuery,
}

impl Target {
    pub(crate) fn new(uri: Uri) -> Result<Self, Error> {
        let unsupported = || Error::UnsupportedUrl(uri.clone());
        let tls = match uri.scheme() {
            Some(scheme) if *scheme == Scheme::HTTP => false,
            Some(scheme) if *scheme == Scheme::HTTPS && cfg!(feature = "rustls") => true,
            _ => return Err(unsupported()),
        };
        let host = uri
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(unsupported)?;
        let default_port = if tls { 443 } else { 80 };
        let port = uri.port_u16().unwrap_or(default_port);
        let host_header = match uri.port_u16() {
            Some(port) if port != default_port => format!("{host}:{port}"),
            _ => host.to_owned(),
        };
        let host_header = HeaderValue::try_from(host_header).map_err(|_| unsupported())?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let path = match uri.path_and_query() {
            Some(path) if !path.as_str().is_empty() => path.clone(),
            _ => PathAndQuery::from_static("/"),
        };
        Ok(Self {
            tls,
            host,
            port,
            host_header,
            path,
            uri,
        })
    }

    pub(crate) fn uri(&self) -> &Uri {
        &self.uri
    }

    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether `other` has the same origin: scheme, host and port.
    fn same_origin(&self, other: &Self) -> bool {
        self.tls == other.tls
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(&other.host)
    }
}

/// One HTTP request of an attempt: the first, or one that follows a
/// redirect.
#[derive(Clone, Debug)]
pub(crate) struct Hop {
    pub(crate) method: Method,
    pub(crate) target: Target,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Headers the connection model sets; a caller's own values are replaced.
const MODEL_HEADERS: [HeaderName; 3] = [
    header::ACCEPT,
    header::CACHE_CONTROL,
    HeaderName::from_static("last-event-id"),
];

/// Headers that describe a request body, dropped with it when a redirect
/// turns the request into a `GET` (as `fetch` does).
const BODY_HEADERS: [HeaderName; 5] = [
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_LOCATION,
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
];

/// Credentials not sent to another origin when following a redirect.
const CREDENTIAL_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
];

impl Hop {
    /// The request to send: the caller's method, headers and body, the
    /// `Host` header, and the headers the connection model asks for.
    pub(crate) fn request<'a>(
        &self,
        model_headers: impl Iterator<Item = (&'static str, &'a [u8])>,
    ) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = Uri::from(self.target.path.clone());
        let headers = request.headers_mut();
        headers.clone_from(&self.headers);
        for name in &MODEL_HEADERS {
            headers.remove(name);
        }
        headers.insert(header::HOST, self.target.host_header.clone());
        for (name, value) in model_headers {
            // The model's names are valid header names. A last event id that
            // is not a valid header value (it has a control character) cannot
            // be sent; the request goes without it.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value),
            ) {
                headers.insert(name, value);
            }
        }
        request
    }

    /// The request that follows a `status` redirect to `location`, or
    /// `None` if `location` is missing or not a URL this client can fetch.
    pub(crate) fn redirect(&self, status: u16, location: Option<&HeaderValue>) -> Option<Self> {
        let location = location?.to_str().ok()?;
        let target = Target::new(resolve(self.target.uri(), location)?).ok()?;
        let method = sse_proto::redirect_method(status, self.method.as_str());
        let mut next = self.clone();
        if method != self.method.as_str() {
            next.method = Method::GET;
            next.body = Bytes::new();
            for name in &BODY_HEADERS {
                next.headers.remove(name);
            }
        }
        if !self.target.same_origin(&target) {
            for name in &CREDENTIAL_HEADERS {
                next.headers.remove(name);
            }
        }
        next.target = target;
        Some(next)
    }
}

/// What the connection model needs to know about a response.
pub(crate) fn response_head(response: &http::response::Parts) -> ResponseHead<'_> {
    let header = |name| response.headers.get(name).map(HeaderValue::as_bytes);
    ResponseHead {
        status: response.status.as_u16(),
        content_type: header(header::CONTENT_TYPE),
        retry_after: header(header::RETRY_AFTER),
        date: header(header::DATE),
        location: header(header::LOCATION),
    }
}

/// Resolves `reference` (a `Location` header) against `base`, as RFC 3986
/// section 5.2 does. The fragment is dropped.
pub(crate) fn resolve(base: &Uri, reference: &str) -> Option<Uri> {
    let reference = reference.split('#').next().unwrap_or_default();
    let scheme = base.scheme_str()?;
    if has_scheme(reference) {
        return reference.parse().ok();
    }
    if reference.starts_with("//") {
        return format!("{scheme}:{reference}").parse().ok();
    }
    let authority = base.authority()?;
    let (path, query) = match reference.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (reference, None),
    };
    let (path, query) = if path.is_empty() {
        (base.path().to_owned(), query.or(base.query()))
    } else if path.starts_with('/') {
        (remove_dot_segments(path), query)
    } else {
        let base_path = base.path();
        let dir = base_path
            .rfind('/')
            .map_or("/", |end| base_path.get(..=end).unwrap_or("/"));
        (remove_dot_segments(&format!("{dir}{path}")), query)
    };
    let query = query.map(|query| format!("?{query}")).unwrap_or_default();
    format!("{scheme}://{authority}{path}{query}").parse().ok()
}

/// Whether `reference` starts with a scheme (`ALPHA *( ALPHA / DIGIT / "+" /
/// "-" / "." ) ":"`).
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// RFC 3986 section 5.2.4, for a path that starts with `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut segments = path.split('/').skip(1).peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            "." => {}
            ".." => {
                out.pop();
            }
            segment => {
                out.push(segment);
                continue;
            }
        }
        if last {
            out.push("");
        }
    }
    format!("/{}", out.join("/"))
}

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
            f.write_str(", a redirect that was not followed")?;
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
    fn resolves_references_as_rfc_3986_does() {
        let base = uri("http://a/b/c/d;p?q");
        // RFC 3986 section 5.4.1, those http::Uri can represent.
        for (reference, expected) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("https://other:8443/x?y", "https://other:8443/x?y"),
        ] {
            let resolved = resolve(&base, reference).map(|uri| uri.to_string());
            assert_eq!(resolved.as_deref(), Some(expected), "{reference:?}");
        }
        assert_eq!(resolve(&base, "http://bad host/"), None);
    }

    #[test]
    fn targets_know_where_to_connect_and_what_to_call_the_host() {
        let target = Target::new(uri("http://example.com/events?x=1")).unwrap();
        assert_eq!((target.host(), target.port()), ("example.com", 80));
        assert_eq!(target.host_header, "example.com");
        assert_eq!(target.path, "/events?x=1");
        let target = Target::new(uri("http://[::1]:8080")).unwrap();
        assert_eq!((target.host(), target.port()), ("::1", 8080));
        assert_eq!(target.host_header, "[::1]:8080");
        assert_eq!(target.path, "/");
        for bad in ["ftp://example.com/", "/relative"] {
            assert!(matches!(
                Target::new(uri(bad)),
                Err(Error::UnsupportedUrl(_))
            ));
        }
        let https = Target::new(uri("https://example.com/"));
        assert_eq!(https.is_ok(), cfg!(feature = "rustls"));
    }

    fn hop(method: Method, url: &str) -> Hop {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        headers.insert("last-event-id", HeaderValue::from_static("stale"));
        Hop {
            method,
            target: Target::new(uri(url)).unwrap(),
            headers,
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn requests_carry_the_models_headers_over_the_callers() {
        let hop = hop(Method::POST, "http://example.com:8080/events");
        let request = hop.request([("Accept", &b"text/event-stream"[..])].into_iter());
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/events");
        let headers = request.headers();
        assert_eq!(headers["host"], "example.com:8080");
        assert_eq!(headers["accept"], "text/event-stream");
        assert_eq!(headers.get_all("accept").iter().count(), 1);
        assert!(headers.get("last-event-id").is_none());
        assert_eq!(headers["authorization"], "Bearer t");
        let unsendable = hop.request([("Last-Event-ID", &b"a\x01"[..])].into_iter());
        assert!(unsendable.headers().get("last-event-id").is_none());
    }

    #[test]
    fn redirects_change_the_method_as_fetch_does_and_keep_credentials_in_origin() {
        let post = hop(Method::POST, "http://example.com/a/events");
        let location = HeaderValue::from_static("stream");
        let next = post.redirect(303, Some(&location)).unwrap();
        assert_eq!(next.method, Method::GET);
        assert!(next.body.is_empty());
        assert!(next.headers.get(header::CONTENT_TYPE).is_none());
        assert_eq!(next.target.uri(), "http://example.com/a/stream");
        assert_eq!(next.headers[header::AUTHORIZATION], "Bearer t");

        let next = post.redirect(307, Some(&location)).unwrap();
        assert_eq!(next.method, Method::POST);
        assert_eq!(next.body, "{}");

        let elsewhere = HeaderValue::from_static("http://other.example/");
        let next = post.redirect(308, Some(&elsewhere)).unwrap();
        assert!(next.headers.get(header::AUTHORIZATION).is_none());

        assert!(post.redirect(302, None).is_none());
        let ftp = HeaderValue::from_static("ftp://example.com/");
        assert!(post.redirect(302, Some(&ftp)).is_none());
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
        let long = Bytes::from("é".repeat(300));
        let failed = FailedResponse::new(url, response(500, None), long);
        assert!(
            failed
                .to_string()
                .ends_with(&format!(": {}...", "é".repeat(200)))
        );
    }
}
