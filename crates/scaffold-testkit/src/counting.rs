//! Counting calls per store method, passing them to a real store: for tests that prove lists are
//! resolved without one query per item (no N+1). A method can also be held (its calls wait until
//! released), for tests that prove an answer does not wait on a write. The store is the port's
//! own `Observed` wrapper, so nothing here repeats the port.

use scaffold_store::{Observed, Observer, Store};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Counts and holds calls by method name.
#[derive(Debug, Default)]
pub struct Counter {
    calls: Mutex<BTreeMap<&'static str, usize>>,
    holds: Mutex<BTreeMap<&'static str, Arc<tokio::sync::Semaphore>>>,
}

/// A real store whose calls a `Counter` sees first (its methods are reached through `Deref`).
pub type CountingStore = Observed<Counter>;

/// Wraps `inner` so that its calls are counted.
pub fn counting_store(inner: Arc<dyn Store>) -> Arc<CountingStore> {
    Arc::new(Observed::new(inner, Counter::default()))
}

#[async_trait::async_trait]
impl Observer for Counter {
    async fn enter(&self, method: &'static str) {
        *self.calls.lock().unwrap().entry(method).or_default() += 1;
        let held = self.holds.lock().unwrap().get(method).cloned();
        if let Some(gate) = held {
            // Closing the semaphore (release) lets every waiter through.
            let _ = gate.acquire().await;
        }
    }
}

impl Counter {
    /// Calls to `name` wait from now on until [`release`](Self::release).
    pub fn hold(&self, name: &'static str) {
        self.holds.lock().unwrap().insert(name, Arc::new(tokio::sync::Semaphore::new(0)));
    }

    /// Lets waiting and future calls to `name` through.
    pub fn release(&self, name: &'static str) {
        if let Some(gate) = self.holds.lock().unwrap().remove(name) {
            gate.close();
        }
    }

    /// Calls per method since the last reset.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.calls.lock().unwrap().clone()
    }

    pub fn reset(&self) {
        self.calls.lock().unwrap().clear();
    }
}
