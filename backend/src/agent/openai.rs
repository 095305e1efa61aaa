//! An OpenAI-compatible `/v1/chat/completions` upstream with `stream: true`, read leniently:
//! reads split anywhere, a role-only first chunk, a usage chunk with empty `choices`, `[DONE]`,
//! a mid-stream `{"error": ...}`, and the common citation shapes. A stream that ends without
//! `[DONE]`, or goes quiet for longer than the idle timeout, is an error, never a hang.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::{Value, json};
use shared::messages::{Role, Usage};
use shared::stream::SseParser;
use url::Url;

use super::{AgentError, AgentEvent, AgentRequest, AgentStream};
use crate::config::{AgentSettings, Secret};

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

/// reqwest's errors name the URL, which may carry credentials; ours do not.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(c) = cause {
        deepest = Some(c.to_string());
        cause = c.source();
    }
    match deepest {
        Some(d) => format!("{kind} ({d})"),
        None => kind.to_owned(),
    }
}

/// PostgreSQL text cannot hold NUL; an upstream that sends one must not cost us the answer.
fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `{"error": {"message": ...}}` or `{"error": "..."}`, as OpenAI-compatible servers send it.
fn upstream_message(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    error_message(&value)
}

fn error_message(value: &Value) -> Option<String> {
    match value.get("error")? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(
            other
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| other.to_string(), str::to_owned),
        ),
    }
}

struct Reader<S> {
    bytes: S,
    parser: SseParser,
    pending: VecDeque<Result<AgentEvent, AgentError>>,
    idle: Duration,
    /// When the upstream counts as silent. Moved by data only: an upstream that sends nothing
    /// but keep-alive comments still times out.
    deadline: tokio::time::Instant,
    cited: bool,
    done: bool,
}

/// Turns the upstream's byte stream into agent events.
fn parse_stream<S>(bytes: S, idle: Duration) -> AgentStream
where
    S: futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send + Unpin + 'static,
{
    let reader = Reader {
        bytes,
        parser: SseParser::new(),
        pending: VecDeque::new(),
        idle,
        deadline: tokio::time::Instant::now() + idle,
        cited: false,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(reader, |mut r| async move {
        loop {
            if let Some(item) = r.pending.pop_front() {
                if item.is_err() {
                    r.done = true;
                    r.pending.clear();
                }
                return Some((item, r));
            }
            if r.done {
                return None;
            }
            match tokio::time::timeout_at(r.deadline, r.bytes.next()).await {
                Err(_) => r.fail(AgentError::Timeout(r.idle.as_secs())),
                Ok(Some(Err(e))) => r.fail(AgentError::Connect(without_url(&e))),
                Ok(Some(Ok(chunk))) => {
                    for frame in r.parser.push(&chunk) {
                        r.deadline = tokio::time::Instant::now() + r.idle;
                        r.frame(&frame.data);
                    }
                }
                Ok(None) => {
                    if let Some(frame) = r.parser.finish() {
                        r.frame(&frame.data);
                    }
                    if !r.done {
                        r.fail(AgentError::Truncated);
                    }
                }
            }
        }
    }))
}

impl<S> Reader<S> {
    fn fail(&mut self, error: AgentError) {
        self.pending.push_back(Err(error));
    }

    fn frame(&mut self, data: &str) {
        if self.done {
            return;
        }
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return;
        }
        if data.is_empty() {
            return;
        }
        let chunk: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                return self.fail(AgentError::Malformed(format!(
                    "a data line is not JSON ({e}): {}",
                    truncate(data, 80)
                )));
            }
        };
        if let Some(message) = error_message(&chunk) {
            return self.fail(AgentError::Upstream(message));
        }
        if !self.cited {
            let sources = citations(&chunk);
            if !sources.is_empty() {
                self.cited = true;
                self.pending.extend(sources.into_iter().map(Ok));
            }
        }
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            if let Some(text) = choice["delta"]["content"]
                .as_str()
                .filter(|t| !t.is_empty())
            {
                self.pending
                    .push_back(Ok(AgentEvent::Delta(without_nul(text))));
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.pending
                    .push_back(Ok(AgentEvent::Finish(reason.to_owned())));
            }
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            let count = |k: &str| usage.get(k).and_then(Value::as_u64);
            self.pending.push_back(Ok(AgentEvent::Usage(Usage {
                prompt_tokens: count("prompt_tokens"),
                completion_tokens: count("completion_tokens"),
                total_tokens: count("total_tokens"),
            })));
        }
    }
}

/// The citation shapes OpenAI-compatible RAG services send, first one found wins:
/// Perplexity's `citations: [url]` and `search_results: [{title,url,snippet}]`, Azure "on your
/// data" `choices[0].delta.context.citations: [{title,url,content}]`, and a plain
/// `sources: [{title,url,snippet}]`.
fn citations(chunk: &Value) -> Vec<AgentEvent> {
    let objects = |list: &Value, snippet_key: &str| -> Vec<AgentEvent> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let url = item["url"].as_str().map(without_nul);
                let title = item["title"]
                    .as_str()
                    .map(without_nul)
                    .or_else(|| url.clone())?;
                Some(AgentEvent::Source {
                    title,
                    url,
                    snippet: without_nul(item[snippet_key].as_str().unwrap_or_default()),
                })
            })
            .collect()
    };
    if let Some(urls) = chunk["citations"].as_array() {
        return urls
            .iter()
            .filter_map(Value::as_str)
            .map(|u| AgentEvent::Source {
                title: without_nul(u),
                url: Some(without_nul(u)),
                snippet: String::new(),
            })
            .collect();
    }
    for (list, snippet_key) in [
        (&chunk["search_results"], "snippet"),
        (
            &chunk["choices"][0]["delta"]["context"]["citations"],
            "content",
        ),
        (&chunk["sources"], "snippet"),
    ] {
        let found = objects(list, snippet_key);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
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

    async fn events(chunks: Vec<&'static str>) -> Vec<Result<AgentEvent, String>> {
        let bytes = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, reqwest::Error>(bytes::Bytes::from(c))),
        );
        parse_stream(bytes, Duration::from_secs(5))
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
            .await
    }

    fn delta(t: &str) -> Result<AgentEvent, String> {
        Ok(AgentEvent::Delta(t.to_owned()))
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

    #[tokio::test]
    async fn a_typical_stream_split_mid_line_reads_whole() {
        let got = events(vec![
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\nda",
            "ta: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n",
            "\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n",
            "data: [DONE]\n\n",
        ])
        .await;
        assert_eq!(
            got,
            vec![
                delta("Hel"),
                delta("lo"),
                Ok(AgentEvent::Finish("stop".into())),
                Ok(AgentEvent::Usage(Usage {
                    prompt_tokens: Some(3),
                    completion_tokens: Some(2),
                    total_tokens: Some(5)
                })),
            ]
        );
    }

    #[tokio::test]
    async fn errors_end_the_stream() {
        let got = events(vec![
            "data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}]}\n\n",
            "data: {\"error\":{\"message\":\"overloaded\"}}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"never\"}}]}\n\n",
        ])
        .await;
        assert_eq!(
            got,
            vec![
                delta("par"),
                Err("the agent reported an error: overloaded".into())
            ]
        );

        let got = events(vec![
            "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
        ])
        .await;
        assert_eq!(
            got,
            vec![
                delta("x"),
                Err("the agent's stream ended without [DONE]".into())
            ]
        );

        let got = events(vec!["data: {not json\n\n"]).await;
        assert!(
            got[0].as_ref().unwrap_err().contains("malformed"),
            "{got:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn keep_alive_comments_do_not_hold_off_the_idle_timeout() {
        // A comment every 4 s, forever, against a 5 s idle timeout.
        let comments = futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_secs(4)).await;
            Some((
                Ok::<_, reqwest::Error>(bytes::Bytes::from_static(b": ping\n\n")),
                (),
            ))
        });
        let got: Vec<_> = parse_stream(Box::pin(comments), Duration::from_secs(5))
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
            .await;
        assert_eq!(got, vec![Err("the agent sent nothing for 5 s".to_owned())]);
    }

    #[tokio::test]
    async fn nul_characters_from_the_upstream_are_dropped() {
        let got = events(vec![
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\\u0000b\"}}]}\n\n",
            "data: [DONE]\n\n",
        ])
        .await;
        assert_eq!(got, vec![delta("ab")]);
    }

    #[tokio::test]
    async fn citations_become_sources_once() {
        let got = events(vec![
            "data: {\"citations\":[\"https://a.example/x\"],\"choices\":[{\"delta\":{\"content\":\"A [1]\"}}]}\n\n",
            "data: {\"citations\":[\"https://a.example/x\"],\"choices\":[{\"delta\":{\"content\":\".\"}}]}\n\n",
            "data: [DONE]\n\n",
        ])
        .await;
        assert_eq!(
            got,
            vec![
                Ok(AgentEvent::Source {
                    title: "https://a.example/x".into(),
                    url: Some("https://a.example/x".into()),
                    snippet: String::new()
                }),
                delta("A [1]"),
                delta("."),
            ]
        );
    }
}
