//! Browser hardening on every response: no MIME sniffing, no framing, a strict referrer, and a
//! Content-Security-Policy fitted to what is served. The SPA runs only its own script and WASM
//! (`'wasm-unsafe-eval'` is what compiling WASM needs; there is no inline script); Swagger UI
//! needs inline styles and data: images; JSON needs nothing at all.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

pub const SPA_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
pub const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

fn policy_for(path: &str) -> &'static str {
    if path == "/api/docs" || path.starts_with("/api/docs/") {
        DOCS_POLICY
    } else if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        API_POLICY
    } else {
        SPA_POLICY
    }
}

pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let policy = policy_for(req.path());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let set = |headers: &mut header::HeaderMap, name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, policy);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        header::REFERRER_POLICY,
        "strict-origin-when-cross-origin",
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_page_gets_its_policy() {
        assert_eq!(policy_for("/"), SPA_POLICY);
        assert_eq!(policy_for("/c/123"), SPA_POLICY);
        assert_eq!(policy_for("/assets/app-1.js"), SPA_POLICY);
        assert_eq!(policy_for("/api/docs/"), DOCS_POLICY);
        assert_eq!(policy_for("/api/docs/swagger-ui.css"), DOCS_POLICY);
        assert_eq!(policy_for("/api/conversations"), API_POLICY);
        assert_eq!(policy_for("/api/docsx"), API_POLICY);
        assert!(!SPA_POLICY.contains("unsafe-inline"));
    }
}
