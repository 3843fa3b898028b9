//! An in-process HTTP client for the axum router: requests go through the whole middleware stack
//! without a socket.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct TestClient {
    router: Router,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl TestResponse {
    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with the given status and code, and returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status for {code}: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status, "{body}");
        body
    }
}

/// One request being built.
#[derive(Debug)]
pub struct Call {
    router: Router,
    req: axum::http::request::Builder,
    body: Body,
}

impl TestClient {
    pub fn new(router: Router) -> Self {
        Self { router }
    }

    pub fn call(&self, method: Method, uri: &str) -> Call {
        Call { router: self.router.clone(), req: Request::builder().method(method).uri(uri), body: Body::empty() }
    }

    pub fn get(&self, uri: &str) -> Call {
        self.call(Method::GET, uri)
    }

    pub fn post(&self, uri: &str) -> Call {
        self.call(Method::POST, uri)
    }

    pub fn patch(&self, uri: &str) -> Call {
        self.call(Method::PATCH, uri)
    }

    pub fn put(&self, uri: &str) -> Call {
        self.call(Method::PUT, uri)
    }

    pub fn delete(&self, uri: &str) -> Call {
        self.call(Method::DELETE, uri)
    }
}

impl Call {
    pub fn token(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.header(name, HeaderValue::from_str(value).unwrap());
        self
    }

    pub fn json(mut self, v: &Value) -> Self {
        self.req = self.req.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(serde_json::to_vec(v).unwrap());
        self
    }

    /// A raw body with the JSON content type (for malformed-input tests).
    pub fn raw_json(mut self, text: &str) -> Self {
        self.req = self.req.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(text.to_owned());
        self
    }

    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.req = self.req.header(header::CONTENT_TYPE, content_type);
        self.body = Body::from(body);
        self
    }

    pub async fn send(self) -> TestResponse {
        let req = self.req.body(self.body).unwrap();
        let res = self.router.oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        TestResponse { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }
}
