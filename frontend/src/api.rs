//! The one HTTP client. Every call goes through [`send`], so every failure arrives as one
//! [`ApiError`] (the server's `{code, message}`, a network error, or an unreadable answer), and
//! every 401 from a signed-in call reaches the one handler the auth context installs.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_net::http::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::error::Code;
use web_sys::{AbortSignal, RequestCredentials};

/// What a failed call tells the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// `None` when the server was not reached.
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
    /// Seconds to wait, from `Retry-After` or Better Auth's `X-Retry-After`.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn network() -> Self {
        Self {
            status: None,
            code: Code::NetworkError.as_str().to_owned(),
            message: "Cannot reach the server. Check your connection and try again.".to_owned(),
            retry_after: None,
        }
    }

    fn bad_response(status: u16) -> Self {
        Self {
            status: Some(status),
            code: Code::BadResponse.as_str().to_owned(),
            message: "The server sent an answer this page cannot read. Reload and try again."
                .to_owned(),
            retry_after: None,
        }
    }

    /// The listed [`Code`] this error is, if any: what the app branches on.
    pub fn known(&self) -> Option<Code> {
        Code::parse(&self.code)
    }

    pub fn is(&self, code: Code) -> bool {
        self.known() == Some(code)
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status == Some(401)
    }

    /// Said to a person: the server's message where it is meant for people, plainer words for
    /// the states everyone meets.
    pub fn for_people(&self) -> String {
        match (self.status, self.known()) {
            (_, Some(Code::NetworkError)) => self.message.clone(),
            (Some(429), _) => match self.retry_after {
                Some(s) => format!("Too many requests. You can try again in {s} s."),
                None => "Too many requests. Wait a moment and try again.".to_owned(),
            },
            (Some(503), Some(Code::Busy)) => {
                "The assistant is busy right now. Try again.".to_owned()
            }
            (Some(s), _) if s >= 500 => {
                "Something went wrong on the server. Try again in a moment.".to_owned()
            }
            _ => self.message.clone(),
        }
    }
}

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// The auth context installs this: a 401 from any signed-in call means the session is gone.
pub fn on_unauthorized(handler: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Rc::new(handler)));
}

pub fn report_unauthorized(path: &str) {
    // Sign-in and sign-up answer 401 for a wrong password: that is not a lost session.
    if path.starts_with("/api/auth/sign-") {
        return;
    }
    if let Some(handler) = ON_UNAUTHORIZED.with(|h| h.borrow().clone()) {
        handler();
    }
}

/// A request about to be sent; [`Call::json`] or [`Call::response`] sends it.
pub struct Call {
    path: String,
    builder: RequestBuilder,
    body: Option<String>,
}

pub fn get(path: &str) -> Call {
    Call::new(Method::GET, path)
}
pub fn post(path: &str) -> Call {
    Call::new(Method::POST, path)
}
pub fn patch(path: &str) -> Call {
    Call::new(Method::PATCH, path)
}
pub fn put(path: &str) -> Call {
    Call::new(Method::PUT, path)
}

pub fn delete(path: &str) -> Call {
    Call::new(Method::DELETE, path)
}

impl Call {
    fn new(method: Method, path: &str) -> Self {
        let builder = RequestBuilder::new(path)
            .method(method)
            .credentials(RequestCredentials::SameOrigin)
            .header("accept", "application/json");
        Self {
            path: path.to_owned(),
            builder,
            body: None,
        }
    }

    pub fn body(self, body: &impl Serialize) -> Self {
        self.json_body(serde_json::to_string(body).expect("request bodies always serialize"))
    }

    /// A body already serialized to JSON.
    pub fn json_body(mut self, json: String) -> Self {
        self.body = Some(json);
        self.builder = self.builder.header("content-type", "application/json");
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn abort_signal(mut self, signal: &AbortSignal) -> Self {
        self.builder = self.builder.abort_signal(Some(signal));
        self
    }

    /// Sends, and returns the response when it is a success (2xx).
    pub async fn response(self) -> Result<Response, ApiError> {
        let request = match self.body {
            Some(body) => self.builder.body(body),
            None => self.builder.build(),
        }
        .map_err(|_| ApiError::network())?;
        let response = request.send().await.map_err(|_| ApiError::network())?;
        if response.ok() {
            return Ok(response);
        }
        let error = error_from(&response).await;
        if error.is_unauthorized() {
            report_unauthorized(&self.path);
        }
        Err(error)
    }

    /// Sends and decodes a JSON answer.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        let response = self.response().await?;
        let status = response.status();
        response
            .json::<T>()
            .await
            .map_err(|_| ApiError::bad_response(status))
    }

    /// Sends; the answer's body is not needed.
    pub async fn send(self) -> Result<(), ApiError> {
        self.response().await.map(drop)
    }
}

/// Chatkeep's `{code, message}` and Better Auth's `{message, code?}` (its 429 has no code).
#[derive(serde::Deserialize)]
struct LenientErrorBody {
    code: Option<String>,
    message: Option<String>,
}

async fn error_from(response: &Response) -> ApiError {
    let status = response.status();
    let headers = response.headers();
    let retry_after = headers
        .get("retry-after")
        .or_else(|| headers.get("x-retry-after"))
        .and_then(|v| v.trim().parse::<u32>().ok());
    let body = response.json::<LenientErrorBody>().await.ok();
    let (code, message) = match body {
        Some(b) => (b.code, b.message),
        None => (None, None),
    };
    let code = code.unwrap_or_else(|| {
        match status {
            401 => Code::Unauthorized,
            404 => Code::NotFound,
            429 => Code::RateLimited,
            _ => Code::HttpError,
        }
        .as_str()
        .to_owned()
    });
    let message = message
        .unwrap_or_else(|| format!("The server answered {status} {}.", response.status_text()));
    ApiError {
        status: Some(status),
        code,
        message,
        retry_after,
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}
