//! A per-run memo of answers, so each AWS call is made once however many
//! checks read it. Concurrent askers of the same key wait for one call.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Cell = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

#[derive(Default)]
pub struct Memo {
    cells: Mutex<HashMap<String, Cell>>,
}

impl Memo {
    /// The value for `key`, computing it with `make` the first time only.
    /// Errors are remembered too: a failed call is not repeated.
    pub async fn once<T, F, Fut>(&self, key: &str, make: F) -> T
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = {
            let mut cells = self.cells.lock().expect("memo lock");
            cells.entry(key.to_string()).or_default().clone()
        };
        let value = cell
            .get_or_init(|| async { Arc::new(make().await) as Arc<dyn Any + Send + Sync> })
            .await;
        value
            .downcast_ref::<T>()
            .unwrap_or_else(|| panic!("memo key `{key}` used with two types"))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn computes_once_under_concurrency() {
        let memo = Arc::new(Memo::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (memo, calls) = (memo.clone(), calls.clone());
                tokio::spawn(async move {
                    memo.once("k", || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        Err::<u32, String>("boom".into())
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Err("boom".to_string()));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(memo.once("other", || async { 5u8 }).await, 5);
    }
}
