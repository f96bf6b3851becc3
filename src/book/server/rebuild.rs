//! `labcheck book serve --watch`, for course authors: the checkout's
//! `book/`, `labs/` and `quizzes/` are watched; a change rebuilds the book
//! (and reloads the course the panels run), then every open page reloads.
//! While the labs, quizzes or chapters have a problem, every page shows it
//! (with its file, line and column) instead of the last good build.

use super::Server;
use crate::book::BookError;
use crate::course::Course;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Quiet time after a change before rebuilding (an editor's save is often
/// several events).
const SETTLE: Duration = Duration::from_millis(300);

/// The folders of a course that the book is built from.
const WATCHED: [&str; 3] = ["book", "labs", "quizzes"];

/// Starts watching `course_dir`; rebuilds into `dest` until the returned
/// watcher is dropped.
pub fn watch(server: Arc<Server>, course_dir: PathBuf, dest: PathBuf) -> Result<notify::RecommendedWatcher, BookError> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let (tx, mut rx) = mpsc::unbounded_channel();
    let output = std::path::absolute(&dest).unwrap_or(dest.clone());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        // The build's own output (the default dest is inside book/) is not a change.
        if event.paths.iter().any(|p| !p.starts_with(&output)) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| BookError::Build(e.into()))?;
    for folder in WATCHED {
        let path = course_dir.join(folder);
        if path.is_dir() {
            watcher
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|e| BookError::Build(anyhow::anyhow!("cannot watch {}: {e}", path.display())))?;
        }
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let a burst of events settle, then build once.
            while let Ok(Some(())) = tokio::time::timeout(SETTLE, rx.recv()).await {}
            rebuild(&server, &course_dir, &dest).await;
        }
    });
    Ok(watcher)
}

/// Loads the course and builds the book; records the result in the server
/// and tells open pages to reload.
async fn rebuild(server: &Arc<Server>, course_dir: &Path, dest: &Path) {
    let (dir, to) = (course_dir.to_path_buf(), dest.to_path_buf());
    let built = tokio::task::spawn_blocking(move || {
        let course = Course::from_dir(&dir, &crate::checks::kind_ids()).map_err(|e| e.to_string())?;
        let html = crate::book::build(&dir, Some(&to)).map_err(|e| e.to_string())?;
        Ok::<_, String>((course, html))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    {
        let mut site = server.site.write().unwrap_or_else(|p| p.into_inner());
        match built {
            Ok((course, html)) => {
                eprintln!("rebuilt the book in {}", html.display());
                *server.course.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(course);
                site.dir = html;
                site.error = None;
            }
            Err(e) => {
                eprintln!("error: the book does not build:\n{e}");
                site.error = Some(e);
            }
        }
    }
    if let Some(reload) = &server.reload {
        let _ = reload.send(());
    }
}
