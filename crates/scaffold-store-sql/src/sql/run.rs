//! Running one statement: bind a tuple of values in `$1, $2, …` order, run it on a pool or a
//! transaction, read the rows, and map the error. Statements built with `QueryBuilder` run as
//! they are.

use super::d::{Db, DbArgs, DbRow, to_store_error};
use scaffold_store::{StoreError, StoreResult};
use sqlx::{Arguments, Database, Encode, Executor, FromRow, Row, Type};

type Query<'q> = sqlx::query::Query<'q, Db, <Db as Database>::Arguments>;

/// Values to bind, as a tuple.
pub(super) trait Binds<'q>: Send {
    fn bind_to(self, q: Query<'q>) -> Query<'q>;
}

/// Implements `Binds` for tuples of every length up to the number of names given.
macro_rules! binds {
    () => {
        impl Binds<'_> for () {
            fn bind_to(self, q: Query<'_>) -> Query<'_> {
                q
            }
        }
    };
    ($first:ident $($v:ident)*) => {
        binds!($($v)*);
        binds!(@tuple $first $($v)*);
    };
    (@tuple $($v:ident)*) => {
        impl<'q, $($v: 'q + Send + Encode<'q, Db> + Type<Db>),*> Binds<'q> for ($($v,)*) {
            #[allow(non_snake_case)]
            fn bind_to(self, q: Query<'q>) -> Query<'q> {
                let ($($v,)*) = self;
                q$(.bind($v))*
            }
        }
    };
}

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

async fn row_opt<'q, 'c, E: Executor<'c, Database = Db>>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<Option<DbRow>> {
    query(sql, args).fetch_optional(e).await.map_err(to_store_error)
}

async fn rows<'q, 'c, E: Executor<'c, Database = Db>>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<Vec<DbRow>> {
    query(sql, args).fetch_all(e).await.map_err(to_store_error)
}

/// A row's values by column, for `insert`, `upsert` and `update`: each column is named once,
/// beside its value, so the column list, the placeholders and the values cannot fall out of step.
/// Written with `values! { column: value, … }` (with `Values` in scope); `key` adds a column an
/// update must match.
pub(super) struct Values {
    columns: Vec<(&'static str, bool)>,
    args: DbArgs,
    failed: Option<sqlx::error::BoxDynError>,
}

impl Values {
    pub(super) fn new() -> Self {
        Self { columns: Vec::new(), args: DbArgs::default(), failed: None }
    }

    fn add<'t, T: Encode<'t, Db> + Type<Db>>(mut self, column: &'static str, key: bool, value: T) -> Self {
        if let Err(e) = self.args.add(value) {
            self.failed.get_or_insert(e);
        }
        self.columns.push((column, key));
        self
    }

    pub(super) fn put<'t, T: Encode<'t, Db> + Type<Db>>(self, column: &'static str, value: T) -> Self {
        self.add(column, false, value)
    }

    /// A column the updated row must have this value in (`where column = value`).
    pub(super) fn key<'t, T: Encode<'t, Db> + Type<Db>>(self, column: &'static str, value: T) -> Self {
        self.add(column, true, value)
    }

    /// `column = $n` for each column of one kind (values or keys), joined by `sep`.
    fn assign(&self, keys: bool, sep: &str) -> String {
        let each = self.columns.iter().enumerate().filter(|(_, (_, k))| *k == keys);
        each.map(|(i, (c, _))| format!("{c} = ${}", i + 1)).collect::<Vec<_>>().join(sep)
    }

    async fn run<'c, E: Executor<'c, Database = Db>>(self, e: E, sql: String) -> StoreResult<<Db as Database>::QueryResult> {
        if let Some(failed) = self.failed {
            return Err(to_store_error(sqlx::Error::Encode(failed)));
        }
        sqlx::query_with(sqlx::AssertSqlSafe(sql), self.args).execute(e).await.map_err(to_store_error)
    }
}

macro_rules! values {
    ($($column:ident: $value:expr),+ $(,)?) => { Values::new()$(.put(stringify!($column), $value))+ };
}
pub(super) use values;

/// Inserts one row; `tail` follows the values.
async fn insert_then<'c, E: Executor<'c, Database = Db>>(e: E, table: &str, v: Values, tail: &str) -> StoreResult<()> {
    let names = v.columns.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ");
    let marks = (1..=v.columns.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    v.run(e, format!("insert into {table} ({names}) values ({marks}) {tail}")).await.map(drop)
}

pub(super) async fn insert<'c, E: Executor<'c, Database = Db>>(e: E, table: &str, v: Values) -> StoreResult<()> {
    insert_then(e, table, v, "").await
}

/// Inserts one row unless it is there already (by any unique rule).
pub(super) async fn insert_new<'c, E: Executor<'c, Database = Db>>(e: E, table: &str, v: Values) -> StoreResult<()> {
    insert_then(e, table, v, "on conflict do nothing").await
}

/// Inserts one row, or where a row has the same `target` columns (listed as SQL lists them)
/// updates that row's other columns, all but `created_at`.
pub(super) async fn upsert<'c, E>(e: E, table: &str, v: Values, target: &str) -> StoreResult<()>
where
    E: Executor<'c, Database = Db>,
{
    let kept = |c: &&str| *c == "created_at" || target.split(", ").any(|t| t == *c);
    let set = v.columns.iter().map(|(c, _)| *c).filter(|c| !kept(c)).map(|c| format!("{c} = excluded.{c}"));
    let tail = format!("on conflict ({target}) do update set {}", set.collect::<Vec<_>>().join(", "));
    insert_then(e, table, v, &tail).await
}

/// Updates the rows that match the keys; the result tells how many.
pub(super) async fn update<'c, E: Executor<'c, Database = Db>>(
    e: E,
    table: &str,
    v: Values,
) -> StoreResult<<Db as Database>::QueryResult> {
    debug_assert!(v.columns.iter().any(|(_, key)| *key), "an update of {table} names no key");
    let sql = format!("update {table} set {} where {}", v.assign(false, ", "), v.assign(true, " and "));
    v.run(e, sql).await
}

/// Reads one row into a value.
pub(super) trait Read: Sized {
    fn read(r: &DbRow) -> StoreResult<Self>;
}

pub(super) async fn opt<'q, 'c, E: Executor<'c, Database = Db>, T: Read>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<Option<T>> {
    row_opt(e, sql, args).await?.as_ref().map(T::read).transpose()
}

pub(super) async fn all<'q, 'c, E: Executor<'c, Database = Db>, T: Read>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<Vec<T>> {
    rows(e, sql, args).await?.iter().map(T::read).collect()
}

/// Rows of a statement with its page size written in for `{limit}`, not bound: SQLite plans a
/// bound LIMIT by its value, and so prepares such a statement again each time it is bound.
pub(super) async fn all_limited<'q, 'c, E: Executor<'c, Database = Db>, T: Read>(
    e: E,
    sql: &'static str,
    limit: u32,
    args: impl Binds<'q>,
) -> StoreResult<Vec<T>> {
    let sql = sqlx::AssertSqlSafe(sql.replace("{limit}", &limit.to_string()));
    let rows = args.bind_to(sqlx::query(sql)).fetch_all(e).await.map_err(to_store_error)?;
    rows.iter().map(T::read).collect()
}

/// Runs a statement built with `QueryBuilder` and reads its rows.
pub(super) async fn built<'c, E: Executor<'c, Database = Db>, T: Read>(
    mut b: sqlx::QueryBuilder<Db>,
    e: E,
) -> StoreResult<Vec<T>> {
    b.build().fetch_all(e).await.map_err(to_store_error)?.iter().map(T::read).collect()
}

/// The only row.
pub(super) async fn one<'q, 'c, E: Executor<'c, Database = Db>, T: Read>(
    e: E,
    sql: &'static str,
    args: impl Binds<'q>,
) -> StoreResult<T> {
    T::read(&query(sql, args).fetch_one(e).await.map_err(to_store_error)?)
}

/// Rows of one column, and of a few read as a tuple.
macro_rules! read_as {
    (column: $($t:ty),*) => {
        $(impl Read for $t { fn read(r: &DbRow) -> StoreResult<Self> { r.try_get(0).map_err(to_store_error) } })*
    };
    (tuple: $($t:ty),*) => {
        $(impl Read for $t { fn read(r: &DbRow) -> StoreResult<Self> { FromRow::from_row(r).map_err(to_store_error) } })*
    };
}
read_as!(column: i64, Option<i64>, bool, String, uuid::Uuid, Vec<u8>, super::d::At);
read_as!(tuple: (i64, i64), (Option<i64>, Option<i64>), (Vec<u8>, super::d::At), (uuid::Uuid, String, f64, f64));
