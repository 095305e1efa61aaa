//! Mail for the account flows (verification, password reset, change of email), sent off the
//! request path: over SMTP (`SMTP_URL`, lettre), or in development to an outbox folder, a file
//! a message and one log line with its subject and path, so a person running
//! `./scripts/run.sh` can follow a reset link. A send that fails is retried, then logged
//! without the address; it never changes what the request that asked for it answered.

pub mod messages;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

pub use messages::Mail;

/// Where mail goes.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// Sends the account flows' mail. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    from: Mailbox,
    /// What the messages call the service, and where people reach it.
    pub product: String,
    pub base_url: url::Url,
}

/// Why a send failed, in words that hold no address: an SMTP server's reply text often quotes
/// the recipient, so only its code is kept.
struct Failure {
    what: String,
    /// A 5xx reply: trying again would get the same answer.
    permanent: bool,
}

impl Failure {
    fn smtp(e: lettre::transport::smtp::Error) -> Self {
        let what = match e.status() {
            Some(code) => format!("the SMTP server answered {code}"),
            None if e.is_timeout() => "the SMTP server did not answer in time".to_owned(),
            None if e.is_tls() => "TLS with the SMTP server failed".to_owned(),
            None => "the SMTP server could not be reached, or the connection failed".to_owned(),
        };
        Self {
            what,
            permanent: e.is_permanent(),
        }
    }
}

/// Attempts per message, and the wait before the first retry (doubled each time).
const ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_secs(2);

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let transport = match &settings.mail.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("SMTP_URL is not an SMTP URL lettre reads")?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
            None => Transport::Outbox(settings.data_dir.join("outbox")),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                from: settings
                    .mail
                    .from
                    .parse()
                    .context("MAIL_FROM is not a mailbox")?,
                product: "Chatkeep".to_owned(),
                base_url: settings.base_url.clone(),
            }),
        })
    }

    /// Where development mail is written, when there is no SMTP server.
    pub fn outbox(&self) -> Option<&std::path::Path> {
        match &self.inner.transport {
            Transport::Outbox(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends `mail` to `to` in the background, retrying; returns at once.
    pub fn send(&self, to: &str, mail: Mail) {
        let mailer = self.clone();
        let to = to.to_owned();
        tokio::spawn(async move {
            let kind = mail.kind;
            let message = match mailer.message(&to, &mail) {
                Ok(message) => message,
                Err(e) => {
                    tracing::error!(mail.kind = kind, error = %e, "a mail could not be written");
                    return;
                }
            };
            let mut wait = FIRST_RETRY;
            for attempt in 1..=ATTEMPTS {
                match mailer.deliver(&message, &mail).await {
                    Ok(()) => return,
                    Err(Failure { what, permanent }) if !permanent && attempt < ATTEMPTS => {
                        tracing::warn!(
                            mail.kind = kind,
                            attempt,
                            error = what,
                            "sending a mail failed; trying again"
                        );
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    Err(Failure { what, .. }) => {
                        tracing::error!(
                            mail.kind = kind,
                            attempt,
                            error = what,
                            "a mail could not be sent; it is dropped"
                        );
                        return;
                    }
                }
            }
        });
    }

    fn message(&self, to: &str, mail: &Mail) -> anyhow::Result<Message> {
        let to: Mailbox = to.parse().context("the address is not a mailbox")?;
        Message::builder()
            .from(self.inner.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(lettre::message::MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .context("building the message")
    }

    async fn deliver(&self, message: &Message, mail: &Mail) -> Result<(), Failure> {
        match &self.inner.transport {
            Transport::Smtp(smtp) => smtp
                .send(message.clone())
                .await
                .map(drop)
                .map_err(Failure::smtp),
            Transport::Outbox(dir) => {
                let written = async {
                    tokio::fs::create_dir_all(dir)
                        .await
                        .with_context(|| format!("cannot create the outbox {}", dir.display()))?;
                    let name = format!(
                        "{}-{}-{:08x}.eml",
                        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
                        mail.kind,
                        rand::random::<u32>()
                    );
                    let path = dir.join(name);
                    tokio::fs::write(&path, message.formatted())
                        .await
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    anyhow::Ok(path)
                };
                let path = written.await.map_err(|e| Failure {
                    what: crate::telemetry::chain(e.as_ref()),
                    permanent: false,
                })?;
                // The subject and the file, never the address or the link.
                tracing::info!(
                    subject = %mail.subject,
                    path = %path.display(),
                    "mail written to the development outbox (no SMTP_URL)"
                );
                Ok(())
            }
        }
    }

    /// The public URL of `path` (which starts with `/`), with `query` encoded.
    pub fn link(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut url = self.inner.base_url.clone();
        url.set_path(path);
        if query.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(query);
        }
        url.to_string()
    }

    pub fn product(&self) -> &str {
        &self.inner.product
    }

    pub fn site(&self) -> String {
        crate::auth::origin::origin_of(&self.inner.base_url)
    }
}
