//! Running one statement: bind a tuple of values in `$1, $2, …` order, run it on a pool or a
//! transaction, read the rows, and map the error. Statements built with `QueryBuilder` run as
//! they are.

use super::d::{Db, DbRow, to_store_error};
use scaffold_store::{StoreError, StoreResult};
use sqlx::{Database, Decode, Encode, Executor, FromRow, Row, Type};

type Query<'q> = sqlx::query::Query<'q, Db, <Db as Database>::Arguments>;

/// Values to bind, as a tuple.
pub(super) trait Binds<'q>: Send {
    fn bind_to(self, q: Query<'q>) -> Query<'q>;
}

macro_rules! binds {
    ($($v:ident)*) => {
        impl<'q, $($v: 'q + Send + Encode<'q, Db> + Type<Db>),*> Binds<'q> for ($($v,)*) {
            #[allow(non_snake_case)]
            fn bind_to(self, q: Query<'q>) -> Query<'q> {
                let ($($v,)*) = self;
                q$(.bind($v))*
            }
        }
    };
}

binds!();
binds!(A);
binds!(A B);
binds!(A B C);
binds!(A B C D);
binds!(A B C D E);
binds!(A B C D E F);
binds!(A B C D E F G);
binds!(A B C D E F G H);
binds!(A B C D E F G H I);
binds!(A B C D E F G H I J);
binds!(A B C D E F G H I J K);
binds!(A B C D E F G H I J K L);
binds!(A B C D E F G H I J K L M);
binds!(A B C D E F G H I J K L M N);
binds!(A B C D E F G H I J K L M N O);
binds!(A B C D E F G H I J K L M N O P);
binds!(A B C D E F G H I J K L M N O P Q);

fn query<'q>(sql: &'static str, args: impl Binds<'q>) -> Query<'q> {
    args.bind_to(sqlx::query(sql))
}

/// Fails with `missing` when a statement changed no row.
pub(super) trait ChangedOr {
    fn changed_or(self, missing: StoreError) -> StoreResult<()>;
}

impl ChangedOr for <Db as Database>::QueryResult {
    fn changed_or(self, missing: StoreError) -> StoreResult<()> {
        if self.rows_affected() == 0 { Err(missing) } else { Ok(()) }
    }
}

/// Runs a statement; the result tells how many rows it changed.
pub(super) async fn exec<'q, 'c, E: Executor<'c, Database = Db>>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<<Db as Database>::QueryResult> {
    query(sql, args).execute(e).await.map_err(to_store_error)
}

pub(super) async fn row<'q, 'c, E: Executor<'c, Database = Db>>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<DbRow> {
    query(sql, args).fetch_one(e).await.map_err(to_store_error)
}

pub(super) async fn row_opt<'q, 'c, E: Executor<'c, Database = Db>>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<Option<DbRow>> {
    query(sql, args).fetch_optional(e).await.map_err(to_store_error)
}

pub(super) async fn rows<'q, 'c, E: Executor<'c, Database = Db>>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<Vec<DbRow>> {
    query(sql, args).fetch_all(e).await.map_err(to_store_error)
}

/// The first column of the only row.
pub(super) async fn scalar<'q, 'c, E, T>(e: E, sql: &'static str, args: impl Binds<'q>) -> StoreResult<T>
where
    E: Executor<'c, Database = Db>,
    T: for<'r> Decode<'r, Db> + Type<Db>,
{
    row(e, sql, args).await?.try_get(0).map_err(to_store_error)
}

pub(super) async fn scalar_opt<'q, 'c, E, T>(e: E, sql: &'static str, args: impl Binds<'q>) -> StoreResult<Option<T>>
where
    E: Executor<'c, Database = Db>,
    T: for<'r> Decode<'r, Db> + Type<Db>,
{
    row_opt(e, sql, args).await?.map(|r| r.try_get(0).map_err(to_store_error)).transpose()
}

pub(super) async fn scalars<'q, 'c, E, T>(e: E, sql: &'static str, args: impl Binds<'q>) -> StoreResult<Vec<T>>
where
    E: Executor<'c, Database = Db>,
    T: for<'r> Decode<'r, Db> + Type<Db>,
{
    rows(e, sql, args).await?.iter().map(|r| r.try_get(0).map_err(to_store_error)).collect()
}

/// Rows read as tuples.
pub(super) async fn tuples<'q, 'c, E, T>(e: E, sql: &'static str, args: impl Binds<'q>) -> StoreResult<Vec<T>>
where
    E: Executor<'c, Database = Db>,
    T: for<'r> FromRow<'r, DbRow>,
{
    rows(e, sql, args).await?.iter().map(|r| T::from_row(r).map_err(to_store_error)).collect()
}

pub(super) async fn tuple_opt<'q, 'c, E, T>(e: E, sql: &'static str, args: impl Binds<'q>) -> StoreResult<Option<T>>
where
    E: Executor<'c, Database = Db>,
    T: for<'r> FromRow<'r, DbRow>,
{
    row_opt(e, sql, args).await?.map(|r| T::from_row(&r).map_err(to_store_error)).transpose()
}

/// Inserts one row: `insert!(executor, "table" { column: value, … } "on conflict …")`, the
/// clause after the values being optional. Each column is named once, beside its value, so the
/// column list, the placeholders and the values cannot fall out of step. Needs `Db` and
/// `to_store_error` in scope; evaluates to the statement's `StoreResult`.
macro_rules! insert {
    ($e:expr, $table:literal { $($col:ident: $val:expr),+ $(,)? } $($tail:literal)?) => {{
        let mut b = sqlx::QueryBuilder::<Db>::new(concat!(
            "insert into ", $table, " (", insert!(@names $($col),+), ") values ("
        ));
        {
            let mut values = b.separated(", ");
            $( values.push_bind($val); )+
        }
        b.push(")");
        $( b.push(concat!(" ", $tail)); )?
        b.build().execute($e).await.map_err(to_store_error)
    }};
    (@names $first:ident $(, $rest:ident)*) => { concat!(stringify!($first) $(, ", ", stringify!($rest))*) };
}
pub(super) use insert;
