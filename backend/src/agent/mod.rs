//! The RAG agent behind one small interface: given the conversation so far and a question, a
//! stream of sources, text deltas, usage and a finish reason. Two implementations:
//! an OpenAI-compatible upstream (`AGENT_URL`), and the built-in retrieval agent (the default)
//! that answers extractively from a Markdown corpus indexed in PostgreSQL.
//!
//! Who may start an answer (slots, caps, fair share) is `crate::messages::admission`.

pub mod openai;
pub mod retrieval;

use std::pin::Pin;

use futures_util::Stream;
use shared::messages::{Role, Usage};

use crate::config::AgentSettings;

/// One earlier message, as context.
#[derive(Debug, Clone)]
pub struct Turn {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone)]
pub struct AgentRequest {
    /// Oldest first, ending just before the question.
    pub history: Vec<Turn>,
    pub question: String,
    /// What the user highlighted and is asking about.
    pub selected_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    Source {
        title: String,
        url: Option<String>,
        snippet: String,
    },
    Delta(String),
    Usage(Usage),
    /// Why the agent stopped (`stop`, `length`, ...), when it says.
    Finish(String),
}

/// Why an answer failed. Its `Display` is for the operator's log (never the conversation's
/// content, never credentials); users get [`AgentError::code`] and
/// [`AgentError::public_message`], which say what happened without the internals.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot reach the agent: {0}")]
    Connect(String),
    #[error("the agent answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the agent reported an error: {0}")]
    Upstream(String),
    #[error("the agent sent nothing for {0} s")]
    Timeout(u64),
    #[error("the agent's stream is malformed: {0}")]
    Malformed(String),
    #[error("the agent's stream ended without [DONE]")]
    Truncated,
    #[error("the agent failed: {0:#}")]
    Internal(anyhow::Error),
}

impl AgentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Connect(_) | Self::Status { .. } | Self::Upstream(_) => "AGENT_ERROR",
            Self::Timeout(_) => "AGENT_TIMEOUT",
            Self::Malformed(_) | Self::Truncated => "AGENT_MALFORMED_STREAM",
            Self::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// What the person asking is told, stored with the answer and sent on the stream: stable
    /// per kind of failure, with nothing from the upstream's body or our own error chain.
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::Connect(_) => "The assistant cannot be reached right now. Try again in a moment.",
            Self::Status { status: 429, .. } => {
                "The assistant is overloaded right now. Try again in a moment."
            }
            Self::Status { .. } | Self::Upstream(_) => {
                "The assistant ran into a problem and could not answer. Try again."
            }
            Self::Timeout(_) => "The assistant stopped responding. Try again.",
            Self::Malformed(_) | Self::Truncated => {
                "The assistant's answer was cut off. Try again."
            }
            Self::Internal(_) => "Something went wrong while answering. Try again.",
        }
    }
}

pub type AgentStream = Pin<Box<dyn Stream<Item = Result<AgentEvent, AgentError>> + Send>>;

pub enum Agent {
    OpenAi(openai::OpenAiAgent),
    Retrieval(retrieval::RetrievalAgent),
}

impl Agent {
    pub fn from_settings(settings: &AgentSettings, pool: sqlx::PgPool) -> anyhow::Result<Self> {
        Ok(match &settings.url {
            Some(_) => Self::OpenAi(openai::OpenAiAgent::new(settings)?),
            None => Self::Retrieval(retrieval::RetrievalAgent::new(pool)),
        })
    }

    pub async fn stream(&self, request: AgentRequest) -> Result<AgentStream, AgentError> {
        match self {
            Self::OpenAi(agent) => agent.stream(request).await,
            Self::Retrieval(agent) => agent.stream(request).await,
        }
    }

    /// For the startup log line.
    pub fn describe(&self) -> String {
        match self {
            Self::OpenAi(agent) => agent.describe(),
            Self::Retrieval(_) => "the built-in retrieval agent".to_owned(),
        }
    }
}
