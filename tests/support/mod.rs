//! Helpers shared by the browser tests: the live server's URL, fresh names,
//! calling SDK methods by name the way JS does, and reading results.

use std::{cell::RefCell, rc::Rc};

use js_sys::{Function, Promise, Reflect};
use tidesync::Tidesync;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The reference server `scripts/test` started for this run. A missing URL is a
/// failure, never a skip: a test that silently does nothing proves nothing.
pub fn server_url() -> &'static str {
    match option_env!("TIDESYNC_TEST_SERVER") {
        Some(url) => url,
        None => {
            panic!("TIDESYNC_TEST_SERVER is not set: run the browser tests through scripts/test")
        }
    }
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    let random = (js_sys::Math::random() * 1e9) as u64;
    format!("{prefix}-{}-{random}", js_sys::Date::now() as u64)
}

/// The `Authorization` header of the app user on the live server, when it
/// wants one (CouchDB: a member of each test database).
fn app_auth() -> Option<&'static str> {
    option_env!("TIDESYNC_TEST_AUTH").filter(|a| !a.is_empty())
}

/// A fresh remote database URL on the live server. On CouchDB
/// (`TIDESYNC_TEST_ADMIN_AUTH` set) the admin creates it with the app user as
/// its member, as an app's back end would; the reference server's is made by
/// the SDK itself.
pub async fn remote_db(prefix: &str) -> String {
    let url = format!("{}/{}", server_url(), unique(prefix).to_lowercase());
    if let Some(admin) = option_env!("TIDESYNC_TEST_ADMIN_AUTH").filter(|a| !a.is_empty()) {
        let provision = eval(
            "async (url, admin, member) => {
               const headers = { authorization: admin, 'content-type': 'application/json' };
               const made = await fetch(url, { method: 'PUT', headers });
               if (!made.ok) throw new Error(`PUT ${url}: ${made.status}`);
               const security = { admins: { names: [], roles: [] }, members: { names: [member], roles: [] } };
               const set = await fetch(`${url}/_security`, { method: 'PUT', headers, body: JSON.stringify(security) });
               if (!set.ok) throw new Error(`PUT ${url}/_security: ${set.status}`);
             }",
        );
        let member = option_env!("TIDESYNC_TEST_MEMBER").unwrap_or("tidesync-app");
        let f: Function = provision.unchecked_into();
        let done = f
            .call3(
                &JsValue::NULL,
                &JsValue::from_str(&url),
                &JsValue::from_str(admin),
                &JsValue::from_str(member),
            )
            .unwrap_or_else(|e| panic!("provisioning failed: {e:?}"));
        await_promise(done).await;
    }
    url
}

/// Parses JSON text into a JS value.
pub fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or_else(|_| panic!("bad test JSON: {text}"))
}

/// Evaluates a JS expression (for values JSON cannot write: functions, BigInt...).
pub fn eval(expr: &str) -> JsValue {
    let f = Function::new_no_args(&format!("return ({expr});"));
    f.call0(&JsValue::NULL)
        .unwrap_or_else(|_| panic!("bad test expression: {expr}"))
}

/// Reads a property.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Awaits a JS promise that must resolve.
pub async fn await_promise(value: JsValue) -> JsValue {
    let promise: Promise = value.dyn_into().unwrap_or_else(|_| panic!("not a promise"));
    JsFuture::from(promise)
        .await
        .unwrap_or_else(|e| panic!("rejected: {e:?}"))
}

/// Opens a database syncing with `remote` only when the test calls `sync()`
/// (automatic sync off, so reports are deterministic).
pub async fn open(name: &str, remote: &str) -> JsValue {
    open_tuned(name, remote, "").await
}

/// Like [`open`], with more options: `extra` is JSON members to add, such as
/// `"batchSize": 4`.
pub async fn open_tuned(name: &str, remote: &str, extra: &str) -> JsValue {
    let headers = app_auth()
        .map(|auth| format!(r#", "headers": {{"Authorization": "{auth}"}}"#))
        .unwrap_or_default();
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    open_with(&format!(
        r#"{{"name": "{name}", "remote": "{remote}", "live": false{headers}{extra}}}"#
    ))
    .await
}

/// Opens a database with options given as JSON text.
pub async fn open_with(options: &str) -> JsValue {
    JsFuture::from(Tidesync::open(json(options)))
        .await
        .unwrap_or_else(|e| panic!("open failed: {e:?}"))
}

/// Calls `db[method](...args)` as JS would and awaits it when it returns a promise.
pub async fn try_call(db: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(db, method)
        .dyn_into()
        .unwrap_or_else(|_| panic!("no method {method}"));
    let array: js_sys::Array = args.iter().collect();
    let out = f.apply(db, &array)?;
    match out.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

/// Like [`try_call`], failing the test on a rejection.
pub async fn call(db: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    try_call(db, method, args)
        .await
        .unwrap_or_else(|e| panic!("{method} failed: {e:?}"))
}

/// Updates a document as an app does: reads the `_rev` it holds, then puts
/// `doc` (JSON text with an `_id`) naming it. Resolves to the write result.
pub async fn edit(db: &JsValue, doc: &str) -> JsValue {
    let doc = json(doc);
    let current = call(db, "get", &[get(&doc, "_id")]).await;
    if !current.is_null() {
        js_sys::Reflect::set(&doc, &"_rev".into(), &get(&current, "_rev")).expect("set _rev");
    }
    call(db, "put", &[doc]).await
}

/// Asserts a rejection is a `TidesyncError` (an `Error`) with `code`.
pub fn expect_code(result: Result<JsValue, JsValue>, code: &str) -> JsValue {
    let error = match result {
        Ok(value) => panic!("expected error {code}, got {value:?}"),
        Err(error) => error,
    };
    assert!(
        error.is_instance_of::<js_sys::Error>(),
        "not an Error: {error:?}"
    );
    assert_eq!(
        get(&error, "name").as_string().as_deref(),
        Some("TidesyncError")
    );
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some(code),
        "{:?}",
        get(&error, "message")
    );
    error
}

/// Records the payloads of one event.
pub struct Recorder {
    seen: Rc<RefCell<Vec<JsValue>>>,
    _closure: Closure<dyn Fn(JsValue)>,
    off: JsValue,
}

impl Recorder {
    /// Subscribes to `event` on `db`.
    pub fn on(db: &JsValue, event: &str) -> Recorder {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        let closure =
            Closure::<dyn Fn(JsValue)>::new(move |payload| sink.borrow_mut().push(payload));
        let on: Function = get(db, "on")
            .dyn_into()
            .unwrap_or_else(|_| panic!("no on()"));
        let off = on
            .call2(db, &JsValue::from_str(event), closure.as_ref())
            .unwrap_or_else(|e| panic!("on failed: {e:?}"));
        Recorder {
            seen,
            _closure: closure,
            off,
        }
    }

    /// Every payload so far.
    pub fn payloads(&self) -> Vec<JsValue> {
        self.seen.borrow().clone()
    }

    /// Calls the unsubscribe function `on()` returned (twice: it must be harmless).
    pub async fn unsubscribe(&self, _db: &JsValue) {
        let off: Function = self
            .off
            .clone()
            .dyn_into()
            .unwrap_or_else(|_| panic!("on() returned no function"));
        off.call0(&JsValue::NULL)
            .unwrap_or_else(|e| panic!("unsubscribe failed: {e:?}"));
        off.call0(&JsValue::NULL)
            .unwrap_or_else(|e| panic!("second unsubscribe failed: {e:?}"));
    }

    /// How many payloads arrived.
    pub fn count(&self) -> usize {
        self.seen.borrow().len()
    }
}
