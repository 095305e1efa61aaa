//! The messages the account flows send: a subject a person recognises, the product's name and
//! address, one link, and what to do if they did not ask for it. Text and HTML bodies.

use std::time::Duration;

/// One message, ready to address.
#[derive(Debug, Clone)]
pub struct Mail {
    /// For logs and file names: `verify-email`, `reset-password`, `change-email`.
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `Duration` as a person says it: "1 hour", "30 minutes".
fn lasts(d: Duration) -> String {
    let minutes = d.as_secs().div_ceil(60);
    match minutes {
        m if m % 60 == 0 && m >= 60 => {
            let h = m / 60;
            format!("{h} hour{}", if h == 1 { "" } else { "s" })
        }
        m => format!("{m} minute{}", if m == 1 { "" } else { "s" }),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a message says of its own; [`compose`] puts the rest around it.
struct Body<'a> {
    kind: &'static str,
    subject: String,
    paragraphs: Vec<String>,
    action: &'a str,
    closing: &'a str,
}

/// The parts every message has, around its own paragraphs.
fn compose(product: &str, site: &str, link: &str, body: Body<'_>) -> Mail {
    let Body {
        kind,
        subject,
        paragraphs,
        action,
        closing,
    } = body;
    let mut text = String::new();
    for p in &paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "{action}:\n{link}\n\n{closing}\n\n-- \n{product}, {site}\n"
    ));
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family: system-ui, sans-serif; line-height: 1.5; \
         color: #1f2328; max-width: 36em;\">",
    );
    for p in &paragraphs {
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    html.push_str(&format!(
        "<p><a href=\"{link}\" style=\"display: inline-block; padding: 0.6em 1.2em; \
         background: #0b57d0; color: #ffffff; border-radius: 6px; text-decoration: none;\">{}</a></p>\
         <p style=\"font-size: 0.9em; color: #59636e;\">Or open this link: {}</p>\
         <p style=\"font-size: 0.9em; color: #59636e;\">{}</p>\
         <p style=\"font-size: 0.9em; color: #59636e;\">{} · <a href=\"{site}\">{site}</a></p>\
         </body></html>",
        escape(action),
        escape(link),
        escape(closing),
        escape(product),
        link = escape(link),
        site = escape(site),
    ));
    Mail {
        kind,
        subject,
        text,
        html,
    }
}

/// The link that verifies an address.
pub fn verify_email(product: &str, site: &str, link: &str, valid_for: Duration) -> Mail {
    let body = Body {
        kind: "verify-email",
        subject: format!("Verify your email address for {product}"),
        paragraphs: vec![
            "Hello,".to_owned(),
            format!(
                "Someone, hopefully you, signed up for {product} with this email address. \
                 Verify it to finish: the link works for {}.",
                lasts(valid_for)
            ),
        ],
        action: "Verify my email address",
        closing: "If this was not you, ignore this email: nothing happens until the link is \
                  followed.",
    };
    compose(product, site, link, body)
}

/// The link that lets a person choose a new password.
pub fn reset_password(
    product: &str,
    site: &str,
    link: &str,
    valid_for: Duration,
    signs_out: bool,
) -> Mail {
    let mut paragraphs = vec![
        "Hello,".to_owned(),
        format!(
            "Someone asked to reset the password of your {product} account. To choose a new \
             one, follow the link below. It works once, for {}.",
            lasts(valid_for)
        ),
    ];
    if signs_out {
        paragraphs.push(
            "Choosing a new password signs you out on every device; sign in again with the new \
             password."
                .to_owned(),
        );
    }
    let body = Body {
        kind: "reset-password",
        subject: format!("Reset your {product} password"),
        paragraphs,
        action: "Choose a new password",
        closing: "If you did not ask for this, ignore this email: your password stays as it is.",
    };
    compose(product, site, link, body)
}

/// To the current address: confirm that the account's email should change to `new_email`.
pub fn confirm_email_change(
    product: &str,
    site: &str,
    link: &str,
    new_email: &str,
    valid_for: Duration,
) -> Mail {
    let body = Body {
        kind: "change-email",
        subject: format!("Confirm the change of your {product} email address"),
        paragraphs: vec![
            "Hello,".to_owned(),
            format!(
                "Someone asked to change the email address of your {product} account to \
                 {new_email}. If that was you, confirm it below; we then send a link to the new \
                 address to finish. The link works for {}.",
                lasts(valid_for)
            ),
        ],
        action: "Confirm the change",
        closing: "If this was not you, ignore this email and consider changing your password: \
                  your address stays as it is.",
    };
    compose(product, site, link, body)
}

/// To the new address: follow the link to make it the account's email.
pub fn verify_new_email(product: &str, site: &str, link: &str, valid_for: Duration) -> Mail {
    let body = Body {
        kind: "change-email",
        subject: format!("Confirm your new email address for {product}"),
        paragraphs: vec![
            "Hello,".to_owned(),
            format!(
                "Someone asked to use this address for their {product} account. Follow the \
                 link to make it the account's email address. It works for {}.",
                lasts(valid_for)
            ),
        ],
        action: "Use this email address",
        closing: "If this was not you, ignore this email: nothing changes until the link is \
                  followed.",
    };
    compose(product, site, link, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_mail_says_where_it_is_from_and_how_long_it_works() {
        let mail = reset_password(
            "Chatkeep",
            "https://chat.example.com",
            "https://chat.example.com/api/auth/reset-password/abc?callbackURL=%2Freset",
            Duration::from_secs(3600),
            true,
        );
        assert_eq!(mail.subject, "Reset your Chatkeep password");
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("1 hour"), "{body}");
            assert!(body.contains("https://chat.example.com"), "{body}");
            assert!(body.contains("every device"), "{body}");
        }
        assert!(mail.html.contains("callbackURL=%2Freset"));
        assert_eq!(lasts(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(lasts(Duration::from_secs(7200)), "2 hours");
    }

    #[test]
    fn what_goes_into_html_is_escaped() {
        let mail = confirm_email_change(
            "Chatkeep",
            "https://chat.example.com",
            "https://chat.example.com/x?a=1&b=2",
            "<script>@example.com",
            Duration::from_secs(3600),
        );
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("a=1&amp;b=2"));
    }
}
