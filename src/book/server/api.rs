//! The routes. Behind [`guard`]: `POST /api/run` (a step's
//! checks, streamed as server-sent events), `GET /api/status` (what
//! `labcheck status --format json` shows, and every quiz attempt),
//! `POST /api/quiz` (an attempt answered in the page). `GET
//! /_labcheck/reload` tells pages of a `--watch` server when the book was
//! rebuilt. Everything else is a file of the book ([`files`]).

use super::quiz::{self, Attempt};
use super::runs::{self, RunEvent};
use super::{Server, files, guard};
use crate::params::Param;
use axum::extract::{DefaultBodyLimit, Json, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use futures::Stream;
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;

/// Largest request body accepted (a quiz's answers fit many times over).
const MAX_BODY: usize = 64 * 1024;

/// The server's routes, guarded.
pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/api/run", post(run))
        .route("/api/status", get(status))
        .route("/api/quiz", post(record_quiz))
        .route("/_labcheck/reload", get(reload))
        .fallback(files::file)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(server.clone(), guard::guard))
        .layer(middleware::map_response(|mut response: Response| async move {
            files::protect(&mut response);
            response
        }))
        .with_state(server)
}

fn problem(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": message.to_string()}))).into_response()
}

/// What a page asks to run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// A step id; empty for the whole lab.
    #[serde(default)]
    pub step: String,
}

async fn run(State(server): State<Arc<Server>>, Json(request): Json<RunRequest>) -> Response {
    let course = server.course();
    let Ok(lab) = course.lab(server.lab.as_deref()) else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "the course has no such lab");
    };
    let Some(selected) = runs::selection(lab, &request.step) else {
        return problem(
            StatusCode::NOT_FOUND,
            format!(
                "no step `{}` in lab {}",
                crate::redact::one_line(&request.step, 80),
                lab.id
            ),
        );
    };
    let joined = server.runs.start_or_join(&server, &request.step, selected);
    Sse::new(events(joined))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// A joined run as server-sent events: what was said, then what is said,
/// until its last event.
fn events(joined: runs::Joined) -> impl Stream<Item = Result<Event, Infallible>> {
    let runs::Joined { so_far, next, joined } = joined;
    let hello = Event::default()
        .event("joined")
        .data(if joined { "true" } else { "false" });
    let replay = futures::stream::iter(so_far.clone().into_iter().map(sse));
    let ended = so_far.iter().any(runs::is_last);
    let live = futures::stream::unfold((next, ended), |(mut next, ended)| async move {
        if ended {
            return None;
        }
        loop {
            match next.recv().await {
                Ok(event) => {
                    let last = runs::is_last(&event);
                    return Some((sse(event), (next, last)));
                }
                // Cannot happen with a channel longer than a lab; go on.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    futures::StreamExt::chain(futures::stream::once(async { Ok(hello) }), replay.chain(live))
}

use futures::StreamExt as _;

fn sse(event: RunEvent) -> Result<Event, Infallible> {
    let data = serde_json::to_string(&event).expect("an event serializes");
    Ok(Event::default().event(event.name()).data(data))
}

async fn status(State(server): State<Arc<Server>>) -> Response {
    let course = server.course();
    let Ok(lab) = course.lab(server.lab.as_deref()) else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "the course has no such lab");
    };
    // The account of the last run here; else the one the parameters name;
    // else (as `labcheck status`) the one checked most recently.
    let last = server.account.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let account = last.or_else(|| {
        let env = |var: &str| std::env::var(var).ok();
        let config = server
            .settings
            .config
            .clone()
            .or_else(|| Some(std::path::PathBuf::from("labcheck.toml")).filter(|p| p.is_file()));
        crate::params::Params::gather(config.as_deref(), &server.settings.set, &env)
            .ok()
            .and_then(|p| p.explicit(Param::Account).map(str::to_string))
    });
    let overview = crate::status::gather(lab, account.as_deref());
    let attempts = quiz::attempts().unwrap_or_else(|_| json!({}));
    Json(json!({
        "status": overview.to_json(&course, lab),
        "attempts": attempts,
        "warnings": overview.warnings,
    }))
    .into_response()
}

async fn record_quiz(State(server): State<Arc<Server>>, Json(attempt): Json<Attempt>) -> Response {
    let course = server.course();
    match tokio::task::spawn_blocking(move || quiz::record(&course, &attempt)).await {
        Ok(Ok(result)) => Json(result).into_response(),
        Ok(Err(e @ quiz::AttemptError::Store(_))) => problem(StatusCode::INTERNAL_SERVER_ERROR, e),
        Ok(Err(e)) => problem(StatusCode::BAD_REQUEST, e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn reload(State(server): State<Arc<Server>>) -> Response {
    let Some(reload) = &server.reload else {
        return problem(StatusCode::NOT_FOUND, "this server does not rebuild (--watch)");
    };
    let rebuilt = futures::stream::unfold(reload.subscribe(), |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(()) => {
                    return Some((
                        Ok::<_, Infallible>(Event::default().event("reload").data("rebuilt")),
                        rx,
                    ));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(rebuilt).keep_alive(KeepAlive::default()).into_response()
}
