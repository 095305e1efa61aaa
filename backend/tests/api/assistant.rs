//! The built-in agent over the real `docs/`, asked what people ask about Chatkeep: it quotes the
//! page that says how first, and never a sentence denying a feature Chatkeep has (the docs once
//! said there was no export, no search and no `DELETE /api/me`, and people believed it).

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{spawn_app_with, unique_email};

/// The bundled corpus, as `DOCS_DIR` (the test helpers default to a fixture corpus).
const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs");

/// What people ask, and the page (its path inside `docs/`) whose section must be quoted first.
const QUESTIONS: [(&str, &str); 25] = [
    ("How do I delete my account?", "accounts-and-sign-in.md"),
    ("Can I export my conversations?", "export-and-import.md"),
    (
        "How do I import my ChatGPT history?",
        "export-and-import.md",
    ),
    ("Can I search my chats?", "search.md"),
    (
        "How do I edit a question I sent?",
        "editing-and-regenerating.md",
    ),
    (
        "What happens if I reload while an answer is being written?",
        "following-answers.md",
    ),
    ("How do I rate an answer?", "feedback.md"),
    ("How do I see metrics?", "metrics-and-monitoring.md"),
    ("How do I run several instances?", "several-instances.md"),
    ("Can I reset my password?", "accounts-and-sign-in.md"),
    ("How do I delete many conversations at once?", "history.md"),
    ("How do I stop an answer?", "chat-and-streaming.md"),
    (
        "Why does sign-in say too many attempts?",
        "accounts-and-sign-in.md",
    ),
    (
        "How do I move my history to another account?",
        "export-and-import.md",
    ),
    ("Can I sign in with Google?", "accounts-and-sign-in.md"),
    (
        "How do I verify my email address?",
        "accounts-and-sign-in.md",
    ),
    (
        "How do I change my email address?",
        "accounts-and-sign-in.md",
    ),
    ("How do I set up SMTP mail?", "configuration.md"),
    (
        "Can I try Chatkeep without an account?",
        "accounts-and-sign-in.md",
    ),
    ("How do I rotate the secret?", "configuration.md"),
    (
        "How do I link GitHub to my account?",
        "accounts-and-sign-in.md",
    ),
    ("How do I configure OIDC_PROVIDERS?", "configuration.md"),
    (
        "How do I make someone an administrator?",
        "administrators.md",
    ),
    (
        "How do I run Chatkeep with Docker Compose?",
        "getting-started.md",
    ),
    (
        "How does the Docker image check its health?",
        "deployment.md",
    ),
];

/// Ways of saying that something Chatkeep has is missing (matched in lower case). What really is
/// missing (administrators...) the docs say "is not built", which is not here.
const DENIALS_OF_WHAT_EXISTS: [&str; 33] = [
    "in this version",
    "not available",
    "no export",
    "cannot export",
    "no import",
    "no search",
    "cannot search",
    "no bulk",
    "one at a time: there is no",
    "no feedback",
    "no rating",
    "no thumbs",
    "no metrics",
    "does not expose metrics",
    "no `/metrics`",
    "no `delete /api/me`",
    "only way to delete an account",
    "no history sidebar",
    "no chat screen",
    "no search screen",
    "has the same effect as a stop request",
    "no way to edit",
    "sends no email",
    "password reset is not built",
    "email verification is not built",
    "cannot be changed",
    "guest (anonymous) accounts are not built",
    "you need an account to chat",
    "is not supported: rotating",
    "identity provider (social sign-in, openid connect) is not built",
    "not with a google or github account",
    "administrator accounts in general, are not built",
    "admin plugin is not implemented",
];

#[sqlx::test(migrations = "../migrations")]
async fn the_assistant_answers_what_chatkeep_can_do_from_the_page_that_says_how(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("DOCS_DIR", DOCS)]).await;
    let session = app.sign_up(&unique_email("assistant")).await;
    let conversation = app.create_conversation(&session).await;

    let mut problems = Vec::new();
    for (question, page) in QUESTIONS {
        let exchange = app
            .exchange(
                &session,
                &conversation,
                serde_json::json!({ "content": question }),
            )
            .await;
        let answer = exchange.assistant_message;
        let cited: Vec<String> = answer
            .sources
            .iter()
            .map(|s| {
                format!(
                    "[{}] {} ({})",
                    s.n,
                    s.title,
                    s.url.as_deref().unwrap_or("no url")
                )
            })
            .collect();
        let first = answer.sources.first().and_then(|s| s.url.as_deref());
        if first != Some(page) {
            let cites_it = answer
                .sources
                .iter()
                .any(|s| s.url.as_deref() == Some(page));
            problems.push(format!(
                "{question:?}: the first source should be {page}{}; cited: {}",
                if cites_it {
                    " (it is cited, but not first)"
                } else {
                    " (it is not cited at all)"
                },
                if cited.is_empty() {
                    "nothing".to_owned()
                } else {
                    cited.join("; ")
                }
            ));
        }
        let text = answer.content.to_lowercase();
        for denial in DENIALS_OF_WHAT_EXISTS {
            if text.contains(denial) {
                problems.push(format!(
                    "{question:?}: the answer denies an existing feature ({denial:?}):\n{}",
                    answer.content
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the built-in agent over docs/ answers wrongly ({} problems):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
