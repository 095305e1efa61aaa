//! An OpenAI-compatible `/v1/chat/completions` upstream with `stream: true`, read leniently:
//! reads split anywhere, a role-only first chunk, a usage chunk with empty `choices`, `[DONE]`,
//! a mid-stream `{"error": ...}`, and the common citation shapes. A stream that ends without
//! `[DONE]`, or goes quiet for longer than the idle timeout, is an error, never a hang.

use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use shared::messages::Role;
use url::Url;

use self::stream::parse_stream;
use self::text::{truncate, upstream_message, without_url};
use super::{AgentError, AgentRequest, AgentStream};
use crate::config::{AgentSettings, Secret};

mod stream;
mod text;

const SYSTEM_PROMPT: &str = "You are a helpful assistant. Answer from the context you are \
given; cite sources as [n] when they are provided; say so when you do not know.";
/// Error bodies from the upstream are kept short in the log line that reports them.
const ERROR_BODY_LIMIT: usize = 500;

pub struct OpenAiAgent {
    client: reqwest::Client,
    endpoint: Url,
    api_key: Option<Secret<String>>,
    model: String,
    idle_timeout: Duration,
}

impl OpenAiAgent {
    pub fn new(settings: &AgentSettings) -> anyhow::Result<Self> {
        let base = settings.url.clone().context("AGENT_URL is not set")?;
        Ok(Self {
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .context("building the agent HTTP client")?,
            endpoint: completions_endpoint(&base),
            api_key: settings.api_key.clone(),
            model: settings.model.clone(),
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "the OpenAI-compatible agent at {} (model {})",
            redacted(&self.endpoint),
            self.model
        )
    }

    pub async fn stream(&self, request: AgentRequest) -> Result<AgentStream, AgentError> {
        let mut messages = vec![json!({ "role": "system", "content": system_prompt(&request) })];
        for turn in &request.history {
            let role = match turn.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            messages.push(json!({ "role": role, "content": turn.content }));
        }
        messages.push(json!({ "role": "user", "content": request.question }));
        let body = json!({
            "model": self.model,
            "stream": true,
            "stream_options": { "include_usage": true },
            "messages": messages,
        });

        let mut call = self.client.post(self.endpoint.clone()).json(&body);
        if let Some(key) = &self.api_key {
            call = call.bearer_auth(key.expose());
        }
        let idle = self.idle_timeout;
        let response = tokio::time::timeout(idle, call.send())
            .await
            .map_err(|_| AgentError::Timeout(idle.as_secs()))?
            .map_err(|e| AgentError::Connect(without_url(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let text = tokio::time::timeout(idle, response.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(AgentError::Status {
                status: status.as_u16(),
                body: truncate(&upstream_message(&text).unwrap_or(text), ERROR_BODY_LIMIT),
            });
        }
        Ok(parse_stream(response.bytes_stream(), idle))
    }
}

/// A URL fit for a log line: no user, password or query (where some providers put keys).
fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

/// `AGENT_URL` may be the server (`https://api.openai.com`), its `/v1`, or the full endpoint.
fn completions_endpoint(base: &Url) -> Url {
    let path = base.path().trim_end_matches('/');
    let mut url = base.clone();
    if path.ends_with("/chat/completions") {
        return url;
    }
    let suffix = if path.ends_with("/v1") {
        "/chat/completions"
    } else {
        "/v1/chat/completions"
    };
    url.set_path(&format!("{path}{suffix}"));
    url
}

fn system_prompt(request: &AgentRequest) -> String {
    match &request.selected_text {
        Some(selected) => format!(
            "{SYSTEM_PROMPT}\n\nThe user selected this passage and is asking about it:\n\"\"\"\n{selected}\n\"\"\""
        ),
        None => SYSTEM_PROMPT.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_endpoint_has_no_credentials() {
        let url = Url::parse("https://user:hunter2@llm.example/v1?api-key=sk-123").unwrap();
        let shown = redacted(&completions_endpoint(&url));
        assert_eq!(shown, "https://llm.example/v1/chat/completions");
    }

    #[test]
    fn endpoints_are_derived_from_any_base() {
        for (base, expected) in [
            (
                "https://api.openai.com",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "https://api.openai.com/v1/",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "http://h:1/proxy/v1/chat/completions",
                "http://h:1/proxy/v1/chat/completions",
            ),
        ] {
            assert_eq!(
                completions_endpoint(&Url::parse(base).unwrap()).as_str(),
                expected
            );
        }
    }
}
