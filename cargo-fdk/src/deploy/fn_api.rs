//! The Fn server's API (`/v2`) as a deploy uses it: find or create the app,
//! create or update the function, create or update its triggers. Updates
//! follow the server's merge rules: a field left out keeps its value, and a
//! `config` key the file no longer has stays on the server (as `fn deploy`
//! leaves it).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::client::{self, Answer, Endpoint, percent_escape};
use super::docker::message_of;
use crate::error::{Error, Result};

/// The API when `FN_API_URL` is not set: `fn`'s default.
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:8080";
/// The annotation holding a function's invoke URL.
pub const INVOKE_ENDPOINT: &str = "fnproject.io/fn/invokeEndpoint";
/// The annotation holding an HTTP trigger's URL.
pub const TRIGGER_ENDPOINT: &str = "fnproject.io/trigger/httpEndpoint";

const CALL_LIMIT: Duration = Duration::from_secs(30);

/// An app, as the API shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct App {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A function, as the API shows it (the fields a deploy reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fn {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its image.
    pub image: String,
    /// Its annotations (the invoke endpoint among them).
    #[serde(default)]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

/// A trigger, as the API shows it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Trigger {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `http`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its path under the app.
    pub source: String,
    /// Its annotations (the HTTP endpoint among them).
    #[serde(default)]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

/// What a function should be: the body of a create or an update.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FnSpec {
    /// The function's name (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its app (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The image reference.
    pub image: String,
    /// MiB; absent keeps (or defaults) the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u32>,
    /// Environment for the function.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

/// An Fn server's API.
#[derive(Debug, Clone)]
pub struct FnApi {
    endpoint: Endpoint,
}

impl FnApi {
    /// The API at `url`, else `FN_API_URL`, else [`DEFAULT_API_URL`].
    pub fn new(url: Option<&str>) -> Result<FnApi> {
        let from_env = std::env::var("FN_API_URL").ok().filter(|u| !u.is_empty());
        let url = url
            .map(str::to_owned)
            .or(from_env)
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        Ok(FnApi {
            endpoint: Endpoint::from_http_url(&url, "the Fn API URL")?,
        })
    }

    /// Where it is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The app named `name`, if there is one.
    pub fn find_app(&self, name: &str) -> Result<Option<App>> {
        let path = format!("/v2/apps?name={}", percent_escape(name, b""));
        Ok(self
            .list::<App>(&path)?
            .into_iter()
            .find(|a| a.name == name))
    }

    /// Creates the app `name`.
    pub fn create_app(&self, name: &str) -> Result<App> {
        let body = serde_json::json!({ "name": name });
        self.json(Method::POST, "/v2/apps", &body)
    }

    /// The function `name` of the app `app_id`, if there is one.
    pub fn find_fn(&self, app_id: &str, name: &str) -> Result<Option<Fn>> {
        let path = format!(
            "/v2/fns?app_id={}&name={}",
            percent_escape(app_id, b""),
            percent_escape(name, b"")
        );
        Ok(self.list::<Fn>(&path)?.into_iter().find(|f| f.name == name))
    }

    /// Creates a function.
    pub fn create_fn(&self, spec: &FnSpec) -> Result<Fn> {
        self.json(Method::POST, "/v2/fns", spec)
    }

    /// Updates the function `id` (the server merges the fields given).
    pub fn update_fn(&self, id: &str, spec: &FnSpec) -> Result<Fn> {
        self.json(
            Method::PUT,
            &format!("/v2/fns/{}", percent_escape(id, b"")),
            spec,
        )
    }

    /// The function's trigger named `name`, if there is one.
    pub fn find_trigger(&self, app_id: &str, fn_id: &str, name: &str) -> Result<Option<Trigger>> {
        let path = format!(
            "/v2/triggers?app_id={}&fn_id={}&name={}",
            percent_escape(app_id, b""),
            percent_escape(fn_id, b""),
            percent_escape(name, b"")
        );
        Ok(self
            .list::<Trigger>(&path)?
            .into_iter()
            .find(|t| t.name == name))
    }

    /// Creates a trigger.
    pub fn create_trigger(
        &self,
        app_id: &str,
        fn_id: &str,
        name: &str,
        kind: &str,
        source: &str,
    ) -> Result<Trigger> {
        let body = serde_json::json!({
            "name": name, "app_id": app_id, "fn_id": fn_id, "type": kind, "source": source,
        });
        self.json(Method::POST, "/v2/triggers", &body)
    }

    /// Points the trigger `id` at `source`.
    pub fn update_trigger(&self, id: &str, kind: &str, source: &str) -> Result<Trigger> {
        let body = serde_json::json!({ "type": kind, "source": source });
        self.json(
            Method::PUT,
            &format!("/v2/triggers/{}", percent_escape(id, b"")),
            &body,
        )
    }

    fn list<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<Vec<T>> {
        let answer = client::send(&self.endpoint, Method::GET, path, None, CALL_LIMIT)
            .map_err(|e| self.unreachable(e))?;
        let list: List<T> = self.decode(Method::GET, path, &answer)?;
        Ok(list.items)
    }

    fn json<B: Serialize, T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::new(format!("cannot encode {method} {path}: {e}")))?;
        let answer = client::send(
            &self.endpoint,
            method.clone(),
            path,
            Some((Bytes::from(bytes), "application/json")),
            CALL_LIMIT,
        )
        .map_err(|e| self.unreachable(e))?;
        self.decode(method, path, &answer)
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        answer: &Answer,
    ) -> Result<T> {
        if !matches!(answer.status, StatusCode::OK | StatusCode::CREATED) {
            return Err(Error::new(format!(
                "the Fn API refused {method} {path}: {} {}",
                answer.status.as_u16(),
                message_of(&answer.body)
            )));
        }
        serde_json::from_slice(&answer.body).map_err(|e| {
            Error::new(format!(
                "the Fn API's answer to {method} {path} is not what an Fn server sends: {e}"
            ))
        })
    }

    fn unreachable(&self, err: Error) -> Error {
        Error::new(format!(
            "no Fn server: {err} (start one, or set FN_API_URL or --api-url)"
        ))
    }
}

/// An annotation's text, when it is text.
pub fn annotation<'a>(
    annotations: &'a BTreeMap<String, serde_json::Value>,
    key: &str,
) -> Option<&'a str> {
    annotations.get(key).and_then(|v| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_escapes() {
        let spec = FnSpec {
            name: Some("hello".into()),
            app_id: Some("01APP".into()),
            image: "hello:0.0.2".into(),
            memory: Some(128),
            ..FnSpec::default()
        };
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            serde_json::json!({"name": "hello", "app_id": "01APP", "image": "hello:0.0.2", "memory": 128})
        );
        assert_eq!(percent_escape("a b&c/d", b""), "a%20b%26c%2Fd");
        let list: List<Fn> = serde_json::from_str(
            r#"{"items":[{"id":"1","name":"f","app_id":"a","image":"i","memory":128,
                "annotations":{"fnproject.io/fn/invokeEndpoint":"http://x/invoke/1"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            annotation(&list.items[0].annotations, INVOKE_ENDPOINT),
            Some("http://x/invoke/1")
        );
        // An empty list has `items: []`; tolerate it missing.
        let list: List<App> = serde_json::from_str("{}").unwrap();
        assert!(list.items.is_empty());
    }
}
