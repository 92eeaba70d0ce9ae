//! The HTTP surface: CouchDB's URL layout mapped onto handlers.

pub mod all_docs;
pub mod attachments;
pub mod body;
pub mod bulk;
pub mod changes;
pub mod db;
pub mod docs;
pub mod extract;
pub mod feed;
pub mod maintenance;
pub mod multipart;
pub mod revs_diff;
pub mod security;
pub mod server;
pub mod session;
pub mod socket;
pub mod statics;

use axum::{
    http::{header, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, get, post},
    Router,
};
use tower_http::trace::TraceLayer;

pub use crate::state::AppState;
use crate::{
    auth::{access::authorise, authenticate, Gate},
    cors::{cors, CorsPolicy},
    error::ApiError,
};

/// The whole application: routes, CouchDB-style fallbacks, authentication,
/// CORS and request logs.
pub fn router(state: AppState, cors_policy: CorsPolicy) -> Router {
    let gate = Gate {
        auth: state.auth.clone(),
        cors: cors_policy.clone(),
    };
    let routes = routes(state);
    // The routes sit inside an outer router so that the 405 rewrite below sees
    // responses after routing has added their `Allow` header. Authentication
    // runs inside CORS, so refusals carry CORS headers and browsers can
    // read them, and preflights need no credentials.
    Router::new()
        .fallback_service(routes)
        .layer(middleware::map_response(method_not_allowed_as_json))
        .layer(middleware::from_fn_with_state(gate, authenticate))
        .layer(middleware::from_fn_with_state(cors_policy, cors))
        .layer(TraceLayer::new_for_http())
}

/// CouchDB's URL layout on `state`: what a request reaches, over HTTP or
/// through a database's socket ([`socket`]), each matched route checked by
/// [`authorise`] first.
pub fn routes(state: AppState) -> Router {
    let doc_routes = || get(docs::get).put(docs::put).delete(docs::delete);
    let att_routes = || {
        get(attachments::get)
            .put(attachments::put)
            .delete(attachments::delete)
    };
    let db_routes = || {
        get(db::info)
            .put(db::create)
            .delete(db::delete)
            .post(docs::post)
    };
    Router::new()
        .route("/", get(server::welcome))
        .route("/_up", get(server::up))
        .route("/_all_dbs", get(server::all_dbs))
        .route("/_uuids", get(server::uuids))
        .route("/_active_tasks", get(server::active_tasks))
        .route(
            "/_session",
            get(session::get)
                .post(session::post)
                .delete(session::delete),
        )
        .route("/_demo", get(statics::redirect))
        .route("/_demo/", get(statics::index))
        .route("/_demo/{*path}", get(statics::file))
        .route("/{db}", db_routes())
        .route("/{db}/", db_routes())
        .route("/{db}/_all_docs", get(all_docs::get).post(all_docs::post))
        .route("/{db}/_bulk_docs", post(bulk::bulk_docs))
        .route("/{db}/_bulk_get", post(bulk::bulk_get))
        .route("/{db}/_revs_diff", post(revs_diff::post))
        .route(
            "/{db}/_revs_limit",
            get(maintenance::get_revs_limit).put(maintenance::put_revs_limit),
        )
        .route("/{db}/_compact", post(maintenance::compact))
        .route(
            "/{db}/_ensure_full_commit",
            post(maintenance::ensure_full_commit),
        )
        .route("/{db}/_changes", get(changes::get).post(changes::post))
        .route("/{db}/_socket", get(socket::open))
        .route("/{db}/_security", get(security::get).put(security::put))
        .route("/{db}/_design/{name}", doc_routes())
        .route("/{db}/_design/{name}/{*att}", att_routes())
        .route("/{db}/_local/{name}", doc_routes())
        .route(
            "/{db}/_local/{name}/{*rest}",
            any(attachments::local_refused),
        )
        .route("/{db}/{id}", doc_routes())
        .route("/{db}/{id}/{*att}", att_routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), authorise))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::missing()
}

/// Routing answers an unsupported method with an empty 405; CouchDB answers
/// with JSON naming the allowed methods.
async fn method_not_allowed_as_json(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let allowed = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .replace(' ', "");
    ApiError::MethodNotAllowed(allowed).into_response()
}
