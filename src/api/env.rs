//! The browser's clock and id source for the engine.

use tidesync_engine::client::Environment;

/// `Date.now()` and UUID v7 ids (time-ordered, so ids sort by creation).
#[derive(Debug, Default, Clone, Copy)]
pub struct BrowserEnv;

impl Environment for BrowserEnv {
    fn now(&self) -> f64 {
        js_sys::Date::now()
    }

    fn new_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
}
