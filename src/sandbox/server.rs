//! HTTP: the routes, the per-request pipeline of the servlet (count, rate limit, fault,
//! latency, run), and the connection loop.
//!
//! Connections are served with hyper directly rather than `axum::serve` because two faults
//! must close the connection without any answer: a handler marks its response with
//! [`CloseWithoutAnswer`] and the connection service turns that mark into an error, on which
//! hyper drops the connection unanswered.
//!
//! It must not interpret commands (that is `servlet` and `commands`); it only opens the store
//! transaction they run in.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tower::Service;

use super::commands;
use super::entries::Failure;
use super::faults::{Fault, FaultDraw, RateGate};
use super::rest::{self, NomQuery, RestAuth};
use super::servlet::{self, Params, Users};
use super::stats::Counters;
use super::store::Store;
use crate::schema::Schema;

/// Everything the handlers share.
pub struct App {
    pub store: Store,
    pub schema: Schema,
    pub users: Users,
    pub rest_auth: RestAuth,
    pub counters: Counters,
    pub rate: RateGate,
    pub faults: FaultDraw,
    pub latency: Duration,
}

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
struct CloseWithoutAnswer;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/plugins/servlet/crm/api",
            get(servlet_get).post(servlet_post),
        )
        .route(
            "/rest/admin_rest/1.0/fields/{table}/fieldsList",
            get(fields_list),
        )
        .route(
            "/rest/catalog-rest/1.0/catalog/getNomDetails",
            get(nom_details),
        )
        .route("/__sandbox/stats", get(stats))
        .with_state(app)
}

fn json_response(status: u16, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn too_many_requests() -> Response<Body> {
    let mut response = json_response(
        429,
        &json!({"success": false, "details": "Too many requests"}),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn internal_error() -> Response<Body> {
    json_response(
        500,
        &json!({"success": false, "details": "Internal server error"}),
    )
}

fn close_without_answer() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    response.extensions_mut().insert(CloseWithoutAnswer);
    response
}

async fn servlet_get(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response<Body> {
    servlet(app, Params::parse(query.as_deref().unwrap_or(""), b"")).await
}

async fn servlet_post(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response<Body> {
    servlet(app, Params::parse(query.as_deref().unwrap_or(""), &body)).await
}

/// One servlet request: counted first, then rate limit, fault, latency, and the command.
async fn servlet(app: Arc<App>, params: Params) -> Response<Body> {
    app.counters.request(&servlet::stats_name(&params));
    if !app.rate.admit() {
        app.counters.throttled();
        return too_many_requests();
    }
    let fault = app.faults.draw();
    if let Some(fault) = fault {
        app.counters.fault(fault.name());
    }
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    match fault {
        Some(Fault::Error) => return internal_error(),
        Some(Fault::Reset) => return close_without_answer(),
        Some(Fault::Throttle) => {
            app.counters.throttled();
            return too_many_requests();
        }
        Some(Fault::DropAfterCommit) | None => {}
    }
    let run = tokio::task::spawn_blocking(move || run_command(&app, &params)).await;
    match (run, fault) {
        (_, Some(Fault::DropAfterCommit)) => close_without_answer(),
        (Ok(Some(body)), _) => json_response(200, &body),
        _ => internal_error(),
    }
}

/// The gate and the command in one store transaction; `None` when the store failed.
fn run_command(app: &App, params: &Params) -> Option<Value> {
    let command = match servlet::gate(params, &app.users) {
        Ok(command) => command,
        Err(refusal) => return Some(refusal),
    };
    match app
        .store
        .transaction(|tx| commands::run(command, params, &app.schema, tx))
    {
        Ok(body) => Some(body),
        Err(failure) => {
            if let Failure::Db(e) = &failure {
                tracing::error!("sandbox store failed: {e}");
            }
            failure.to_json()
        }
    }
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

async fn fields_list(
    State(app): State<Arc<App>>,
    Path(table): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    app.counters.rest("fieldsList");
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    let user = app.rest_auth.check(authorization(&headers));
    let (status, body) = rest::fields_list(&app.schema, user, &table);
    json_response(status, &body)
}

async fn nom_details(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    app.counters.rest("getNomDetails");
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    let user = app.rest_auth.check(authorization(&headers));
    let params = Params::parse(query.as_deref().unwrap_or(""), b"");
    let answer = tokio::task::spawn_blocking(move || {
        let query = NomQuery {
            nom_id: params.get("nomId"),
            table: params.get("tableName"),
        };
        rest::nom_details(&app.store, &app.schema, user, query)
    })
    .await;
    match answer {
        Ok((status, body)) => json_response(status, &body),
        Err(_) => internal_error(),
    }
}

async fn stats(State(app): State<Arc<App>>) -> Response<Body> {
    let body = serde_json::to_value(app.counters.snapshot()).unwrap_or(Value::Null);
    json_response(200, &body)
}

/// The error a connection's service returns to make hyper close it unanswered.
#[derive(Debug, thiserror::Error)]
#[error("connection closed without an answer (injected fault)")]
struct Dropped;

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Accept errors (e.g. too many open files) are transient: keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let mut router = router.clone();
                async move {
                    let response: Response<Body> = match router.call(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    if response.extensions().get::<CloseWithoutAnswer>().is_some() {
                        return Err(Dropped);
                    }
                    Ok::<_, Dropped>(response)
                }
            });
            // Connection errors (client gone, injected drops) end only this connection.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
