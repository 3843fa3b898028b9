//! The store conformance suite on both adapters. PostgreSQL needs `SCAFFOLD_TEST_PG_URL`.

mod sqlite {
    scaffold_store::conformance_suite!(scaffold_testkit::sqlite());
}

mod postgres {
    scaffold_store::conformance_suite!(scaffold_testkit::postgres());
}
