//! Browser safety: which origins we trust, Better Auth's Origin/Referer check on
//! cookie-bearing writes, its Fetch-Metadata rule on sign-in/up, and its redirect-target rules.
//! CORS, which uses the same trusted origins, is `crate::cors`.

use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::http::header;
use url::Url;

use super::error::AuthError;

/// The base URL's origin plus `BETTER_AUTH_TRUSTED_ORIGINS`. Entries are exact origins
/// (`https://app.example.com`) or wildcards (`https://*.example.com`, `*.example.com`).
#[derive(Debug, Clone)]
pub struct TrustedOrigins {
    exact: Vec<String>,
    wildcards: Vec<String>,
}

impl TrustedOrigins {
    pub fn new(base_url: &Url, extra: &[String]) -> Self {
        let mut exact = vec![origin_of(base_url)];
        let mut wildcards = Vec::new();
        for entry in extra {
            if entry.contains('*') {
                wildcards.push(entry.clone());
            } else if let Ok(url) = Url::parse(entry) {
                exact.push(origin_of(&url));
            } else {
                exact.push(entry.clone());
            }
        }
        Self { exact, wildcards }
    }

    pub fn is_trusted(&self, origin: &str) -> bool {
        if self.exact.iter().any(|o| o == origin) {
            return true;
        }
        let Ok(url) = Url::parse(origin) else {
            return false;
        };
        let host = url.host_str().unwrap_or_default();
        self.wildcards
            .iter()
            .any(|pattern| match pattern.split_once("://") {
                Some((scheme, host_pattern)) => {
                    scheme == url.scheme() && glob(host_pattern, &host_with_port(&url))
                }
                None => glob(pattern, host),
            })
    }
}

fn host_with_port(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// `*` matches any run of characters (at least one).
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(tail) = text.strip_prefix(prefix) else {
                return false;
            };
            (1..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

/// `scheme://host[:port]`, no trailing slash.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The origin a request claims: `Origin`, else the origin of `Referer`. `Origin: null` from a
/// same-origin context counts as our own origin.
fn claimed_origin(req: &HttpRequest, own_origin: &str) -> Option<String> {
    match header(req, "origin") {
        Some("null") => {
            (header(req, "sec-fetch-site") == Some("same-origin")).then(|| own_origin.to_owned())
        }
        Some(origin) => Some(origin.trim_end_matches('/').to_owned()),
        None => header(req, "referer")
            .and_then(|r| Url::parse(r).ok())
            .map(|u| origin_of(&u)),
    }
}

fn require_trusted(
    req: &HttpRequest,
    trusted: &TrustedOrigins,
    own_origin: &str,
) -> Result<(), AuthError> {
    match claimed_origin(req, own_origin) {
        None => Err(AuthError::MISSING_OR_NULL_ORIGIN),
        Some(origin) if trusted.is_trusted(&origin) => Ok(()),
        Some(_) => Err(AuthError::INVALID_ORIGIN),
    }
}

/// Better Auth's CSRF rules for one request. `login` marks sign-in and sign-up, which get the
/// Fetch-Metadata rule even without a cookie.
pub fn check(
    req: &HttpRequest,
    trusted: &TrustedOrigins,
    own_origin: &str,
    login: bool,
) -> Result<(), AuthError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if req.headers().contains_key(header::COOKIE) {
        return require_trusted(req, trusted, own_origin);
    }
    if login {
        let site = header(req, "sec-fetch-site");
        let mode = header(req, "sec-fetch-mode");
        if site == Some("cross-site") && mode == Some("navigate") {
            return Err(AuthError::CROSS_SITE_NAVIGATION_LOGIN_BLOCKED);
        }
        let has_browser_signals = [
            "sec-fetch-site",
            "sec-fetch-mode",
            "sec-fetch-dest",
            "origin",
            "referer",
        ]
        .iter()
        .any(|h| req.headers().contains_key(*h));
        if has_browser_signals {
            return require_trusted(req, trusted, own_origin);
        }
    }
    Ok(())
}

/// A `callbackURL` must be a relative path that stays on this site, or on a trusted origin.
pub fn check_callback_url(value: &str, trusted: &TrustedOrigins) -> Result<(), AuthError> {
    // Browsers drop tabs and newlines from a URL ("/\t/evil.example" becomes "//evil.example"),
    // and a newline cannot go in a Location header: no control characters anywhere.
    if value.chars().any(char::is_control) {
        return Err(AuthError::INVALID_CALLBACK_URL);
    }
    if value.starts_with('/') {
        let lower = value.to_ascii_lowercase();
        let sneaky = value.starts_with("//")
            || value.contains('\\')
            || lower.contains("%2f")
            || lower.contains("%5c");
        // Resolved against a stand-in origin, a safe relative URL stays on it.
        let base = Url::parse("https://callback.invalid/").expect("a valid base URL");
        let stays = base
            .join(value)
            .is_ok_and(|url| url.host_str() == Some("callback.invalid"));
        return if !sneaky && stays {
            Ok(())
        } else {
            Err(AuthError::INVALID_CALLBACK_URL)
        };
    }
    match Url::parse(value) {
        Ok(url) if trusted.is_trusted(&origin_of(&url)) => Ok(()),
        _ => Err(AuthError::INVALID_CALLBACK_URL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> TrustedOrigins {
        TrustedOrigins::new(
            &Url::parse("http://127.0.0.1:8080/").unwrap(),
            &[
                "https://app.example.com".into(),
                "https://*.example.org".into(),
                "*.example.net".into(),
            ],
        )
    }

    #[test]
    fn exact_and_wildcard_origins() {
        let t = trusted();
        assert!(t.is_trusted("http://127.0.0.1:8080"));
        assert!(!t.is_trusted("http://localhost:8080"));
        assert!(t.is_trusted("https://app.example.com"));
        assert!(!t.is_trusted("http://app.example.com"));
        assert!(t.is_trusted("https://a.example.org"));
        assert!(!t.is_trusted("https://example.org"));
        assert!(!t.is_trusted("https://evil.com"));
        assert!(t.is_trusted("https://x.example.net"));
    }

    #[test]
    fn callback_urls_are_relative_or_trusted() {
        let t = trusted();
        assert!(check_callback_url("/dashboard", &t).is_ok());
        assert!(check_callback_url("https://app.example.com/after", &t).is_ok());
        assert!(check_callback_url("//evil.com/x", &t).is_err());
        assert!(check_callback_url("https://evil.com/", &t).is_err());
    }

    #[test]
    fn callback_urls_that_a_browser_would_send_elsewhere_are_refused() {
        let t = trusted();
        for sneaky in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/a\nb",
            "/\r\nSet-Cookie: x=1",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/\\evil.example",
            "//evil.example",
            "https://app.example.com/ok\n",
        ] {
            assert!(check_callback_url(sneaky, &t).is_err(), "{sneaky:?}");
        }
        for fine in [
            "/",
            "/c/42?tab=1#top",
            "/settings",
            "https://app.example.com/after",
        ] {
            assert!(check_callback_url(fine, &t).is_ok(), "{fine:?}");
        }
    }
}
