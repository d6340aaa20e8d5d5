//! HTTP plumbing for `EventSource`: what to connect to, the request to send
//! and where a redirect leads. No I/O and no protocol decisions (those are
//! `sse_proto::Client`'s).

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::Scheme;
use http::{Method, Request, Uri};
use sse_proto::ResponseHead;

use crate::Error;

/// How many bytes of a failed response's body are kept for the error.
pub(crate) const BODY_PREFIX_LEN: usize = 4 * 1024;

/// Where a request goes: a parsed `http` or `https` URL with a host.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    uri: Uri,
    tls: bool,
    /// The host to connect to and to name in TLS: without IPv6 brackets.
    host: String,
    port: u16,
}

impl Target {
    pub(crate) fn new(uri: Uri) -> Result<Self, Error> {
        let unsupported = || Error::UnsupportedUrl(uri.clone());
        let tls = match uri.scheme() {
            Some(scheme) if *scheme == Scheme::HTTP => false,
            Some(scheme) if *scheme == Scheme::HTTPS => true,
            _ => return Err(unsupported()),
        };
        let host = uri
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(unsupported)?;
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(Self {
            tls,
            host,
            port,
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
    /// The request to send: the caller's method, URL, headers and body, and
    /// the headers the connection model asks for (replacing the caller's of
    /// the same names). The transport adds what it needs (`Host`).
    pub(crate) fn request<'a>(
        &self,
        model_headers: impl Iterator<Item = (&'static str, &'a [u8])>,
    ) -> Request<Bytes> {
        let mut request = Request::new(self.body.clone());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.target.uri().clone();
        let headers = request.headers_mut();
        headers.clone_from(&self.headers);
        for name in &MODEL_HEADERS {
            headers.remove(name);
        }
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

/// Resolves `reference` (a `Location` header) against `base`, as `fetch`
/// does, with the WHATWG URL parser of the `url` crate (RFC 3986's
/// resolution, plus the percent-encoding browsers apply). The fragment is
/// dropped: it is never sent.
pub(crate) fn resolve(base: &Uri, reference: &str) -> Option<Uri> {
    let base = url::Url::parse(&base.to_string()).ok()?;
    let mut url = base.join(reference).ok()?;
    url.set_fragment(None);
    url.as_str().parse().ok()
}

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
    fn targets_know_where_to_connect() {
        let target = Target::new(uri("http://example.com/events?x=1")).unwrap();
        assert_eq!(
            (target.host(), target.port(), target.is_tls()),
            ("example.com", 80, false)
        );
        let target = Target::new(uri("http://[::1]:8080")).unwrap();
        assert_eq!((target.host(), target.port()), ("::1", 8080));
        let target = Target::new(uri("https://example.com/")).unwrap();
        assert_eq!((target.port(), target.is_tls()), (443, true));
        for bad in ["ftp://example.com/", "/relative"] {
            assert!(matches!(
                Target::new(uri(bad)),
                Err(Error::UnsupportedUrl(_))
            ));
        }
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
        assert_eq!(request.uri(), "http://example.com:8080/events");
        assert_eq!(request.body(), "{}");
        let headers = request.headers();
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
        // What fetch's URL parser mends, followed: a space is encoded.
        let spaced = HeaderValue::from_static("/a b");
        let next = post.redirect(302, Some(&spaced)).unwrap();
        assert_eq!(next.target.uri(), "http://example.com/a%20b");
    }
}
