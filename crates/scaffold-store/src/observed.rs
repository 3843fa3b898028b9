//! The port's traits are declared with `port!`, which also makes `Observed` implement them: a
//! store that tells an `Observer` the name of each call, then passes the call to the store it
//! wraps. Tests use it to count and hold calls (`scaffold-testkit`'s `CountingStore`) without a
//! hand-written copy of the port.

use crate::Store;
use std::sync::Arc;

/// Told of every call before it reaches the store; may hold it back by not returning yet.
#[async_trait::async_trait]
pub trait Observer: Send + Sync + std::fmt::Debug {
    async fn enter(&self, method: &'static str);
}

/// A store whose calls an observer sees first.
#[derive(Debug)]
pub struct Observed<O> {
    pub(crate) inner: Arc<dyn Store>,
    pub(crate) observer: O,
}

impl<O: Observer> Observed<O> {
    pub fn new(inner: Arc<dyn Store>, observer: O) -> Self {
        Self { inner, observer }
    }
}

/// The observer's own methods (counts, holds) on the observed store.
impl<O> std::ops::Deref for Observed<O> {
    type Target = O;

    fn deref(&self) -> &O {
        &self.observer
    }
}

/// Declares one trait of the port, and `Observed`'s implementation of it. Methods are `async`
/// and take `&self` and named arguments; plain methods (no arguments) go in a `sync { }` block
/// first. Bounds go in brackets.
macro_rules! port {
    (
        $(#[$tm:meta])*
        pub trait $name:ident: [$($sup:tt)+] {
            $( sync { $( $(#[$sm:meta])* fn $s:ident(&self) -> $sr:ty; )* } )?
            $( $(#[$mm:meta])* async fn $m:ident(&self $(, $a:ident: $t:ty)* $(,)?) -> $r:ty; )*
        }
    ) => {
        $(#[$tm])*
        #[async_trait::async_trait]
        pub trait $name: $($sup)+ {
            $( $( $(#[$sm])* fn $s(&self) -> $sr; )* )?
            $( $(#[$mm])* async fn $m(&self $(, $a: $t)*) -> $r; )*
        }

        #[async_trait::async_trait]
        impl<O: $crate::observed::Observer> $name for $crate::observed::Observed<O> {
            $( $( fn $s(&self) -> $sr { self.inner.$s() } )* )?
            $(
                async fn $m(&self $(, $a: $t)*) -> $r {
                    self.observer.enter(stringify!($m)).await;
                    self.inner.$m($($a),*).await
                }
            )*
        }
    };
}
