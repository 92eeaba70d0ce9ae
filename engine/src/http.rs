//! HTTP requests and responses as plain data: the engine says what to send and
//! reads what came back; the edge (fetch, or a fake server in tests) does the I/O.

/// An HTTP method the protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// A request against the remote database.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The path below the database URL (empty for the database itself), e.g.
    /// `_bulk_docs`.
    pub path: String,
    /// Query parameters, not yet encoded.
    pub query: Vec<(String, String)>,
    /// A JSON body.
    pub body: Option<String>,
}

impl HttpRequest {
    /// A request with no query and no body.
    pub fn new(method: Method, path: &str) -> Self {
        HttpRequest {
            method,
            path: path.to_owned(),
            query: Vec::new(),
            body: None,
        }
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body text.
    pub body: String,
    /// `Retry-After` when the server sent one, in milliseconds (the header
    /// counts seconds; every duration the engine keeps is in milliseconds).
    pub retry_after_ms: Option<f64>,
}

/// A request that produced no response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    /// The network failed (offline, refused, reset, CORS).
    #[error("network error: {0}")]
    Network(String),
    /// No answer within the request timeout.
    #[error("request timed out after {0} ms")]
    Timeout(u32),
}
