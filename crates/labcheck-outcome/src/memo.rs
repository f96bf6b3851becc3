//! A per-run memo of answers, so each AWS call is made once however many
//! checks read it. Concurrent askers of the same key wait for one call.
//!
//! Every shared answer has a key type of its own, declared next to the code
//! that computes it, and the key names the answer's type ([`MemoKey`]): a key
//! cannot be read as another type, and a misspelt key does not compile (a
//! string key would have missed the cache without a word).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The key of one shared answer. A unit struct for an answer the run has
/// one of (the media bucket), a struct with fields for one per argument (the
/// objects of a bucket, by name).
pub trait MemoKey: Hash + Eq + Send + Sync + 'static {
    /// The answer, errors included: a failed call is remembered too.
    type Value: Clone + Send + Sync + 'static;
}

type Cell<K> = Arc<OnceCell<<K as MemoKey>::Value>>;

/// The answers of one key type.
type Table<K> = HashMap<K, Cell<K>>;

/// The memo of one run: see the module documentation.
#[derive(Default)]
pub struct Memo {
    /// One [`Table`] per key type, under the key type's id.
    tables: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl Memo {
    /// The answer for `key`, computing it with `make` the first time only;
    /// askers that come while it is being computed wait for that answer.
    pub async fn once<K, F, Fut>(&self, key: K, make: F) -> K::Value
    where
        K: MemoKey,
        F: FnOnce() -> Fut,
        Fut: Future<Output = K::Value>,
    {
        self.cell(key).get_or_init(make).await.clone()
    }

    fn cell<K: MemoKey>(&self, key: K) -> Cell<K> {
        let mut tables = self.tables.lock().expect("memo lock");
        let table = tables
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(Table::<K>::new()))
            .downcast_mut::<Table<K>>()
            .expect("the table under a key type's id is that key type's");
        table.entry(key).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(PartialEq, Eq, Hash)]
    struct Failing;
    impl MemoKey for Failing {
        type Value = Result<u32, String>;
    }

    #[derive(PartialEq, Eq, Hash)]
    struct Small;
    impl MemoKey for Small {
        type Value = u8;
    }

    #[derive(PartialEq, Eq, Hash)]
    struct ByName(String);
    impl MemoKey for ByName {
        type Value = usize;
    }

    #[tokio::test]
    async fn computes_once_under_concurrency() {
        let memo = Arc::new(Memo::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (memo, calls) = (memo.clone(), calls.clone());
                tokio::spawn(async move {
                    memo.once(Failing, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        Err("boom".to_string())
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Err("boom".to_string()));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(memo.once(Small, || async { 5 }).await, 5);
    }

    #[tokio::test]
    async fn keys_with_fields_keep_one_answer_each() {
        let memo = Memo::default();
        let a = memo.once(ByName("a".into()), || async { 1 }).await;
        let b = memo.once(ByName("b".into()), || async { 2 }).await;
        let again = memo.once(ByName("a".into()), || async { 3 }).await;
        assert_eq!((a, b, again), (1, 2, 1));
    }
}
