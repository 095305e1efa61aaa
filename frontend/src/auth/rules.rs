//! The server's sign-up and sign-in rules, checked as the person types so most mistakes never
//! make a round trip. The server checks again; these only mirror Better Auth's defaults.

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;

/// Better Auth (zod) accepts `local@domain.tld` without spaces; so do we.
pub fn email_problem(email: &str) -> Option<&'static str> {
    let email = email.trim();
    if email.is_empty() {
        return Some("Enter your email address.");
    }
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.split_once('.').is_some_and(|(host, tld)| {
                !host.is_empty() && tld.len() >= 2 && !tld.ends_with('.')
            })
            && !domain.starts_with('.')
            && !domain.contains("..")
    }) && !email.chars().any(char::is_whitespace);
    (!valid).then_some("Enter an email address like name@example.com.")
}

/// Length as Better Auth counts it: JavaScript string length, in UTF-16 units.
fn js_length(s: &str) -> usize {
    s.encode_utf16().count()
}

pub fn new_password_problem(password: &str) -> Option<String> {
    let len = js_length(password);
    if len < MIN_PASSWORD {
        Some(format!("Use at least {MIN_PASSWORD} characters."))
    } else if len > MAX_PASSWORD {
        Some(format!("Use at most {MAX_PASSWORD} characters."))
    } else {
        None
    }
}

/// Sign-in checks only the upper bound, as Better Auth does.
pub fn password_problem(password: &str) -> Option<String> {
    if password.is_empty() {
        Some("Enter your password.".to_owned())
    } else if js_length(password) > MAX_PASSWORD {
        Some(format!("Passwords are at most {MAX_PASSWORD} characters."))
    } else {
        None
    }
}

pub fn name_problem(name: &str) -> Option<&'static str> {
    name.trim().is_empty().then_some("Enter your name.")
}

/// Where to go after signing in: only a path on this site, never another origin. Checked as
/// the browser will read it: backslashes are slashes and `.`/`..` segments (also written
/// `%2e`) are resolved first, so `/..//evil.example` cannot become `//evil.example`.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else {
        return "/".to_owned();
    };
    if !n.starts_with('/') || n.chars().any(|c| c.is_control()) {
        return "/".to_owned();
    }
    let normalised = resolve_dots(n);
    // Not back to a page of the way in (signing in again from there would loop).
    const WAYS_IN: [&str; 5] = [
        "/sign-",
        "/forgot-password",
        "/reset-password",
        "/check-email",
        "/verified",
    ];
    if normalised.starts_with("//") || WAYS_IN.iter().any(|p| normalised.starts_with(p)) {
        return "/".to_owned();
    }
    normalised
}

/// The path of `url` with `\` read as `/` and dot segments removed (RFC 3986 5.2.4, with the
/// WHATWG URL standard's spellings of them); the query and fragment as they were.
fn resolve_dots(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (path, rest) = url.split_at(end);
    let path = path.replace('\\', "/");
    let is_dot = |s: &str| s == "." || s.eq_ignore_ascii_case("%2e");
    let is_dot_dot = |s: &str| {
        matches!(
            s.to_ascii_lowercase().as_str(),
            ".." | ".%2e" | "%2e." | "%2e%2e"
        )
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.into_iter().enumerate() {
        if is_dot_dot(segment) {
            out.pop();
            if i == last {
                out.push("");
            }
        } else if is_dot(segment) {
            if i == last {
                out.push("");
            }
        } else {
            out.push(segment);
        }
    }
    format!("/{}{rest}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for good in [
            "a@b.co",
            "first.last+tag@example.com",
            " padded@example.org ",
        ] {
            assert_eq!(email_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@.com",
            "a@b.c",
            "a b@c.com",
            "a@b@c.com",
            "a@b..com",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn new_passwords_are_8_to_128_utf16_units() {
        assert!(new_password_problem("1234567").is_some());
        assert_eq!(new_password_problem("12345678"), None);
        assert_eq!(new_password_problem(&"x".repeat(128)), None);
        assert!(new_password_problem(&"x".repeat(129)).is_some());
        // Four astral characters are eight UTF-16 units, as JavaScript counts them.
        assert_eq!(new_password_problem("😀😀😀😀"), None);
        assert!(new_password_problem(&"😀".repeat(65)).is_some());
    }

    #[test]
    fn sign_in_only_refuses_empty_or_overlong_passwords() {
        assert!(password_problem("").is_some());
        assert_eq!(password_problem("short"), None);
        assert!(password_problem(&"x".repeat(129)).is_some());
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/c/123?x=1")), "/c/123?x=1");
        assert_eq!(safe_next(Some("/settings")), "/settings");
        for bad in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("javascript:alert(1)"),
            Some("/sign-in"),
            Some("/a\nb"),
            Some("/..//evil.example"),
            Some("/.//evil.example"),
            Some("/%2e%2e//evil.example"),
            Some("/x/../..//evil.example"),
            Some("/..\\/evil.example"),
            Some("/c/../sign-in"),
            Some("/reset-password?token=x"),
            Some("/verified"),
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        // Dot segments inside the site resolve as the browser resolves them.
        assert_eq!(
            safe_next(Some("/c/../settings?tab=a/../b")),
            "/settings?tab=a/../b"
        );
        assert_eq!(safe_next(Some("/c/./1")), "/c/1");
        assert_eq!(safe_next(Some("/c/..")), "/");
    }
}
