//! The upstream's Server-Sent Events, read into agent events: deltas, citations, usage and
//! the finish reason, with an idle timeout and a clear error for a malformed or cut-off stream.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use shared::messages::Usage;
use shared::stream::SseParser;

use super::text::{error_message, truncate, without_nul, without_url};
use crate::agent::{AgentError, AgentEvent, AgentStream};

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
pub(super) fn parse_stream<S>(bytes: S, idle: Duration) -> AgentStream
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

/// The upstream is not ours: whatever it sends, however its bytes are cut, the reader ends with
/// events or one clear error, never a panic, and the cuts never change what it reads.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn read(bytes: &[u8], cuts: &[usize]) -> Vec<Result<AgentEvent, String>> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(bytes.len());
        let mut chunks = Vec::new();
        let mut at = 0;
        for cut in cuts {
            chunks.push(Ok::<_, reqwest::Error>(bytes::Bytes::copy_from_slice(
                &bytes[at..cut.max(at)],
            )));
            at = cut.max(at);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(
            parse_stream(futures_util::stream::iter(chunks), Duration::from_secs(5))
                .map(|r| r.map_err(|e| e.to_string()))
                .collect(),
        )
    }

    /// Upstream-like frames: content, citations, usage, errors, junk, [DONE].
    fn upstream() -> impl Strategy<Value = Vec<u8>> {
        let frame = prop_oneof![
            any::<String>().prop_map(|t| format!(
                "data: {}\n\n",
                serde_json::json!({ "choices": [{ "delta": { "content": t } }] })
            )),
            Just("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n".to_owned()),
            Just("data: {\"citations\":[\"https://a.example\"],\"choices\":[]}\n\n".to_owned()),
            Just("data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n".to_owned()),
            Just("data: {\"error\":{\"message\":\"x\"}}\n\n".to_owned()),
            Just(": keep-alive\n\n".to_owned()),
            Just("data: [DONE]\n\n".to_owned()),
            any::<String>().prop_map(|junk| format!("data: {junk}\n\n")),
            any::<String>(),
        ];
        prop::collection::vec(frame, 0..12).prop_map(|f| f.concat().into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn cuts_never_change_what_is_read(
            bytes in upstream(),
            cuts in prop::collection::vec(any::<usize>(), 0..8),
        ) {
            let whole = read(&bytes, &[]);
            prop_assert_eq!(&read(&bytes, &cuts), &whole);
            // At most one error, and only as the last item.
            let errors = whole.iter().filter(|r| r.is_err()).count();
            prop_assert!(errors <= 1);
            if errors == 1 {
                prop_assert!(whole.last().unwrap().is_err());
            }
        }

        #[test]
        fn arbitrary_bytes_end_in_events_or_one_error(
            bytes in prop::collection::vec(any::<u8>(), 0..400),
        ) {
            let got = read(&bytes, &[1, 50, 200]);
            prop_assert!(got.iter().filter(|r| r.is_err()).count() <= 1);
        }
    }
}
